"""Shared helpers for the reliability drills (scripts/drills/drill*.py).

Every drill uses its OWN PostgreSQL database (portal_h4_drill*), Redis db 4, its own
ports (8140-8149) and, where it stops a service, a PRIVATE instance of it (redis-server
on 8140, a never-answering listener on 8141, web on 8142, PostgreSQL clusters on 8143
and 8144): the machine's shared services are never stopped or restarted.

Processes: every process a drill starts goes through `start()` (its own process group,
recorded in var/drills/pids/ with the drill's PID) and is killed, group and all, when
the drill ends however it ends (return, exception, SIGTERM from run_all's timeout,
SIGINT, SIGHUP). A drill starts clean (`start_clean()`): process groups recorded by a
drill that is no longer alive are killed, and so is any process whose environment
points a broker at one of OUR private ports (a leftover Celery worker would otherwise
take the next drill's tasks). Nothing is ever matched by name; other people's
processes are never touched.
"""
# ruff: noqa: S603, S607, S608, S311 - an ops script: fixed commands, our own table names, test data

from __future__ import annotations

import atexit
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[2]
PY = str(ROOT / ".venv" / "bin" / "python")
BIN = ROOT / ".venv" / "bin"
PG = os.environ.get("DRILL_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("DRILL_REDIS", "redis://127.0.0.1:6379/4")
WORK = ROOT / "var" / "drills"
WORK.mkdir(parents=True, exist_ok=True)
PIDS = WORK / "pids"
PIDS.mkdir(exist_ok=True)
# H4's ports: a private redis-server, the never-answering listener, web, two PG clusters.
PORT_REDIS, PORT_HOLE, PORT_WEB, PORT_PG5, PORT_PG9 = 8140, 8141, 8142, 8143, 8144
OWN_PORTS = range(8140, 8150)


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


_STARTED: list[subprocess.Popen] = []


def start(cmd: list[str], logfile: Path | None, env: dict[str, str], **kw: object) -> subprocess.Popen:
    """Start a process in a new process group that this drill owns and kills on exit."""
    out = logfile.open("ab") if logfile else kw.pop("stdout", None)
    kw.setdefault("stderr", subprocess.STDOUT if logfile else None)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, start_new_session=True, **kw)  # type: ignore[call-overload]
    _STARTED.append(proc)
    (PIDS / str(proc.pid)).write_text(json.dumps({"owner": os.getpid(), "cmd": cmd[:3]}))
    return proc


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Stop one process group this drill started (never anything by name), children included.

    The group is signalled even when its leader is already gone: a Celery worker's main
    process killed by a drill leaves its pool child in the group.
    """
    if proc.poll() is None:
        _killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    _killpg(proc.pid, signal.SIGKILL)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    (PIDS / str(proc.pid)).unlink(missing_ok=True)


def stop_all() -> None:
    """Kill every process group this drill started (atexit and the signal handlers)."""
    while _STARTED:
        stop(_STARTED.pop(), timeout=10)


def _on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds the drill's `finally` blocks, then atexit


atexit.register(stop_all)
if threading.current_thread() is threading.main_thread():
    for _sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(_sig) in (signal.SIG_DFL, None):
            signal.signal(_sig, _on_signal)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    return dict(x.split("=", 1) for x in raw.decode(errors="replace").split("\0") if "=" in x)


def start_clean() -> list[int]:
    """Kill what earlier drills of OURS left behind; returns the PIDs killed.

    1. Process groups recorded in var/drills/pids/ whose owner (the drill that started
       them) is no longer alive.
    2. Any process whose CELERY_BROKER_URL / REDIS_URL points at one of our own private
       ports (8140-8149), not started by a live drill: a worker left by a killed drill.
    3. A private redis-server still answering on our Redis port: shut down.
    """
    killed: list[int] = []
    live_groups: set[int] = set()
    for f in PIDS.iterdir():
        try:
            owner = json.loads(f.read_text())["owner"]
        except (OSError, ValueError, KeyError):
            owner = 0
        pid = int(f.name)
        if owner and owner != os.getpid() and _alive(owner):
            live_groups.add(pid)
            continue
        if _alive(pid):
            _killpg(pid, signal.SIGKILL)
            killed.append(pid)
        f.unlink(missing_ok=True)
    ours = tuple(f"redis://127.0.0.1:{p}/" for p in OWN_PORTS)
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        pid = int(d.name)
        try:
            if os.getpgid(pid) in live_groups:
                continue
        except ProcessLookupError:
            continue
        env = _environ(pid)
        if any(env.get(k, "").startswith(ours) for k in ("CELERY_BROKER_URL", "REDIS_URL")):
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except (ProcessLookupError, PermissionError):
                pass
    if not live_groups:
        redis_stop(PORT_REDIS)
    if killed:
        log(f"start clean: killed leftovers of earlier drills {killed}")
    return killed


def wait_stopped(proc: subprocess.Popen, timeout: float) -> int | None:
    """Wait at most `timeout` s for a process to end; SIGKILL its group if it did not."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(proc, signal.SIGKILL)
        return None


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


def prepare_matching_db(name: str, pensioners: int = 200_000, evidence: int = 300_000, *,
                        template: str | None = None) -> str:
    """A population plus imported (not yet matched) hospital and death feeds; returns its URL.

    With `template` (a database this function made before, with the same sizes), a copy of
    it instead: the CI copies prepare it once per session."""
    url = db_url(name)
    if template:
        recreate_db(name, template=template)
        return url
    recreate_db(name)
    log(f"populate {pensioners}")
    populate(url, pensioners, "2026-11-20")
    import_feeds(name, pensioners, evidence)
    return url


def import_feeds(name: str, pensioners: int, evidence: int) -> None:
    """Hospital and death feeds for the population in `name`, imported (not yet matched)."""
    import random

    url = db_url(name)
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
    proc = start([PY, "-c", BLACKHOLE, str(port), str(lifetime)], None, dict(os.environ), stdout=subprocess.PIPE,
                 text=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    return proc


_REDIS: dict[int, subprocess.Popen] = {}


def _redis_pid(port: int) -> int | None:
    out = subprocess.run(["redis-cli", "-p", str(port), "info", "server"], capture_output=True, text=True,
                         timeout=10).stdout
    for line in out.splitlines():
        if line.startswith("process_id:"):
            return int(line.split(":")[1])
    return None


def redis_start(port: int) -> None:
    """A private redis-server on `port` (no persistence, in this drill's own process group); the
    shared 6379 is never touched. One left on the port by an earlier drill is shut down first,
    so a drill never reuses an earlier run's queues."""
    redis_stop(port)
    proc = start(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                  "--logfile", str(WORK / f"redis{port}.log")], None, dict(os.environ), stdout=subprocess.DEVNULL)
    _REDIS[port] = proc
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"private redis on {port} exited: {(WORK / f'redis{port}.log').read_text()[-2000:]}")
        if _redis_pid(port) == proc.pid:
            return
        time.sleep(0.1)
    stop(proc)
    raise RuntimeError(f"private redis on {port} did not start in 30 s")


def redis_stop(port: int) -> None:
    """Shut down the private redis-server on `port` (one of ours: by its port, never by name) and
    wait, at most 30 s, until nothing answers there."""
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True, timeout=10)
    proc = _REDIS.pop(port, None)
    if proc is not None:
        wait_stopped(proc, 20)
        (PIDS / str(proc.pid)).unlink(missing_ok=True)
    deadline = time.monotonic() + 30
    while _redis_pid(port) is not None and time.monotonic() < deadline:
        subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True, timeout=10)
        time.sleep(0.2)


# Generous but finite: a worker's start-up (Django + autodiscovery) took 20-40 s at a load of 12.
WORKER_READY_SECONDS = 180


def worker_start(env: dict[str, str], logfile: Path, *, queues: str = "default", name: str = "drill",
                 pool: str = "prefork", concurrency: int = 1) -> subprocess.Popen:
    """A Celery worker this drill owns (its PID is the Popen's); waits until it says ready."""
    logfile.write_text("")
    proc = start([str(BIN / "celery"), "-A", "config", "worker", "-Q", queues, "-n", f"{name}@%h", "--pool", pool,
                  "--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
                 logfile, env)
    deadline = time.monotonic() + WORKER_READY_SECONDS
    while time.monotonic() < deadline:
        if "ready." in logfile.read_text(errors="replace"):
            return proc
        if proc.poll() is not None:
            stop(proc)
            raise RuntimeError(logfile.read_text(errors="replace")[-3000:])
        time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"worker not ready in {WORKER_READY_SECONDS} s")


def wait_for(predicate, *, timeout: float, every: float = 0.5, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll `predicate` until it returns something truthy, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"{what} not reached in {timeout:.0f} s")
