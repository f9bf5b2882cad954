"""Shared helpers for the reliability drills (scripts/drills/drill*.py).

Every drill uses its OWN PostgreSQL database (portal_h8_drill*), its own ports
(8109, 63xx) and, where it stops a service, a PRIVATE instance of it (redis-server on
6389, PostgreSQL clusters on 5439 and 5449): the machine's shared services are never
stopped or restarted.
"""
# ruff: noqa: S603, S607, S608, S311 - an ops script: fixed commands, our own table names, test data

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[2]
PY = str(ROOT / ".venv" / "bin" / "python")
BIN = ROOT / ".venv" / "bin"
PG = os.environ.get("DRILL_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("DRILL_REDIS", "redis://127.0.0.1:6379/9")
WORK = ROOT / "var" / "drills"
WORK.mkdir(parents=True, exist_ok=True)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def db_url(name: str, base: str = PG) -> str:
    return f"{base}/{name}"


def _admin(base: str = PG):  # type: ignore[no-untyped-def]
    import environ

    cfg = environ.Env.db_url_config(f"{base}/postgres")
    conn = psycopg2.connect(host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], dbname="postgres")
    conn.autocommit = True
    return conn


def recreate_db(name: str, *, template: str | None = None, base: str = PG) -> None:
    conn = _admin(base)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    conn.close()


def drop_db(name: str, base: str = PG) -> None:
    conn = _admin(base)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.close()


def env_for(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(DATABASE_URL=database_url, REDIS_URL=REDIS, DJANGO_SETTINGS_MODULE="config.settings",
               SMS_TRANSPORT="file", SMS_FILE_PATH=str(WORK / "sms.jsonl"), AXES_ENABLED="0")
    env.update(extra)
    return env


def manage(database_url: str, *args: str, check: bool = True, **extra: str) -> dict:
    """Run a manage.py command; return its last-line JSON (DESIGN §4 contract)."""
    proc = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env_for(database_url, **extra),
                          capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    lines = proc.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {"returncode": proc.returncode}


def populate(database_url: str, pensioners: int, today: str = "2026-11-20") -> dict:
    proc = subprocess.run([PY, "scripts/bench_dashboard_populate.py", "--pensioners", str(pensioners),
                           "--today", today], cwd=ROOT, env=env_for(database_url), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def query(database_url: str, sql: str, params: list | None = None) -> list[tuple]:
    import environ

    cfg = environ.Env.db_url_config(database_url)
    conn = psycopg2.connect(host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], dbname=cfg["NAME"])
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params or [])
            return cur.fetchall() if cur.description else []
    finally:
        conn.commit()
        conn.close()


PENSIONER_COLUMNS = "id, id_number, valid_until, status, suspended_since, death_date, monthly_amount"


def pensioner_checksum(database_url: str) -> str:
    """md5 over every pensioner's rule-relevant columns, in id order (updated_at left out: it is a clock)."""
    rows = query(database_url, f"SELECT md5(string_agg(concat_ws('|', {PENSIONER_COLUMNS}), ',' ORDER BY id)) "
                               "FROM certification_pensioner")
    return rows[0][0] or ""


def table_counts(database_url: str, tables: list[str]) -> dict[str, int]:
    return {t: query(database_url, f"SELECT count(*) FROM {t}")[0][0] for t in tables}


def start(cmd: list[str], logfile: Path, env: dict[str, str]) -> subprocess.Popen:
    fh = logfile.open("ab")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Stop one process group this drill started (never anything by name)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def secret_key() -> str:
    return secrets.token_urlsafe(64)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def result(name: str, passed: bool, **figures: object) -> None:
    out = {"drill": name, "passed": passed, **figures}
    (WORK / f"{name}.json").write_text(json.dumps(out, ensure_ascii=False, indent=1, default=str))
    print(json.dumps(out, ensure_ascii=False, default=str))
    if not passed:
        sys.exit(1)


MATCH_TABLES = ["certification_certification", "certification_statuschange", "certification_backpay",
                "certification_backpayline", "certification_overpayment", "bigdata_fraudalert"]


def prepare_matching_db(name: str, pensioners: int = 200_000, evidence: int = 300_000) -> str:
    """A population plus imported (not yet matched) hospital and death feeds; returns its URL."""
    import random

    url = db_url(name)
    recreate_db(name)
    log(f"populate {pensioners}")
    populate(url, pensioners, "2026-11-20")
    ids = [r[0] for r in query(url, "SELECT id_number FROM certification_pensioner WHERE status <> 'deceased'")]
    rnd = random.Random(12)
    feed = WORK / f"{name}_hospital.csv"
    with feed.open("w", encoding="utf-8") as fh:
        fh.write("id_number,event_date,source_ref\n")
        for i in range(evidence):
            day = 20 + rnd.randint(0, 300)
            fh.write(f"{rnd.choice(ids)},{_day(day)},H{i}\n")
    deaths = WORK / f"{name}_death.csv"
    with deaths.open("w", encoding="utf-8") as fh:
        fh.write("id_number,event_date,source_ref\n")
        for i in range(pensioners // 200):
            fh.write(f"{rnd.choice(ids)},{_day(rnd.randint(40, 200))},D{i}\n")
    log("import_evidence (hospital, death_civil)")
    manage(url, "import_evidence", str(feed), "--source", "hospital")
    manage(url, "import_evidence", str(deaths), "--source", "death_civil")
    return url


def _day(days_before: int) -> str:
    import datetime as dt

    return (dt.date(2026, 11, 20) - dt.timedelta(days=days_before)).isoformat()


# ---- Private services the new drills start and stop (never the shared ones) ----------------

BLACKHOLE = """
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(128)
s.settimeout(1)
held, end = [], time.monotonic() + float(sys.argv[2])
print("listening", flush=True)
while time.monotonic() < end:  # bounded: gone after its lifetime even if the drill dies
    try:
        held.append(s.accept()[0])  # accept, then never read nor answer
    except OSError:
        pass
"""


def blackhole_start(port: int, lifetime: float = 600) -> subprocess.Popen:
    """A loopback listener that accepts connections and never answers: a Redis host that is gone."""
    proc = subprocess.Popen([PY, "-c", BLACKHOLE, str(port), str(lifetime)], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    return proc


def redis_start(port: int) -> None:
    """A private redis-server on `port` (no persistence); the shared 6379 is never touched."""
    subprocess.run(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--daemonize", "yes", "--pidfile", str(WORK / f"redis{port}.pid"),
                    "--logfile", str(WORK / f"redis{port}.log")], check=True)
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip() == "PONG":
            return
        time.sleep(0.1)
    raise RuntimeError(f"private redis on {port} did not start")


def redis_stop(port: int) -> None:
    """Shut down the private redis-server this drill started on `port` (by its port, never by name)."""
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)


def worker_start(env: dict[str, str], logfile: Path, *, queues: str = "default", name: str = "drill",
                 pool: str = "prefork", concurrency: int = 1) -> subprocess.Popen:
    """A Celery worker this drill owns (its PID is the Popen's); waits until it says ready."""
    logfile.write_text("")
    proc = start([str(BIN / "celery"), "-A", "config", "worker", "-Q", queues, "-n", f"{name}@%h", "--pool", pool,
                  "--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
                 logfile, env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if "ready." in logfile.read_text(errors="replace"):
            return proc
        if proc.poll() is not None:
            raise RuntimeError(logfile.read_text(errors="replace")[-3000:])
        time.sleep(0.3)
    raise RuntimeError("worker not ready in 90 s")


def wait_for(predicate, *, timeout: float, every: float = 0.5, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll `predicate` until it returns something truthy, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"{what} not reached in {timeout:.0f} s")
