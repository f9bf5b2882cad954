"""Shared helpers for the reliability drills (scripts/drills/drill*.py).

Every drill uses its OWN PostgreSQL database (portal_admin_drill*), its own ports
(85xx) and, where it stops a service, a PRIVATE instance of it (redis-server on
6385, a PostgreSQL cluster on 5439): the machine's shared services are never
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
REDIS = os.environ.get("DRILL_REDIS", "redis://127.0.0.1:6379/5")
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
