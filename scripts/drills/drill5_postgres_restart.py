"""Drill 5: restart PostgreSQL while the web serves; after it is back, no 500.

A PRIVATE PostgreSQL cluster (initdb in var/drills/pg5, port 8143, run as the
`postgres` OS user when we are root) so the shared cluster is never touched.
gunicorn runs config.settings.production (CONN_MAX_AGE=60, CONN_HEALTH_CHECKS) on
port 8142. A load loop hits /healthz and an API page that reads the database at
~20 req/s for 40 s; at 10 s the cluster is restarted with `pg_ctl restart -m fast`.

    .venv/bin/python scripts/drills/drill5_postgres_restart.py
"""
# ruff: noqa: S603, S607, S608, S311 - an ops script: fixed commands, our own table names, test data

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections import Counter

import requests
from common import (
    BIN,
    PORT_PG5,
    PORT_WEB,
    PY,
    REDIS,
    ROOT,
    WORK,
    log,
    manage,
    result,
    secret_key,
    start,
    start_clean,
    stop,
)

PGBIN = os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")
PORT = PORT_PG5
WEB = PORT_WEB  # H4's port
DATA = WORK / "pg5"
URL = f"postgres://postgres@127.0.0.1:{PORT}/portal"


def as_postgres(cmd: list[str]) -> list[str]:
    return ["su", "postgres", "-c", " ".join(cmd)] if os.geteuid() == 0 else cmd


def pg_ctl(*args: str) -> None:
    subprocess.run(as_postgres([f"{PGBIN}/pg_ctl", "-D", str(DATA), *args]), check=True, capture_output=True)


def main() -> None:
    start_clean()
    if DATA.exists():
        try:
            pg_ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(DATA)
    DATA.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(DATA, "postgres", "postgres")
    subprocess.run(as_postgres([f"{PGBIN}/initdb", "-D", str(DATA), "-A", "trust", "-U", "postgres"]),
                   check=True, capture_output=True)
    opts = f"'-p {PORT} -k /tmp -c listen_addresses=127.0.0.1'"
    pg_ctl("-o", opts, "-l", str(DATA / "server.log"), "-w", "start")
    web = None
    try:
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(PORT), "-U", "postgres", "-c", "CREATE DATABASE portal"],
                       check=True, capture_output=True)
        log("migrate + a small population + snapshot on the private cluster")
        subprocess.run([PY, "scripts/bench_dashboard_populate.py", "--pensioners", "3000"], cwd=ROOT, check=True,
                       env={**os.environ, "DATABASE_URL": URL}, capture_output=True)
        manage(URL, "run_nightly", "--today", "2026-11-20")
        # The token is bound to the password through a hash keyed by SECRET_KEY: issue it with
        # the key the server will run with, or every API call is a 401 (not a database read).
        key = secret_key()
        token = subprocess.run([PY, "manage.py", "shell", "-c",
                                "from certification.models import User; from certification.accounts.tokens import api_token_issue;"
                                "u=User.objects.create_user('drill-admin', role='admin', password='x-Drill-42');"
                                "print(api_token_issue(user=u))"],
                               cwd=ROOT, env={**os.environ, "DATABASE_URL": URL, "DJANGO_SECRET_KEY": key},
                               capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        env = {**os.environ, "DATABASE_URL": URL, "REDIS_URL": REDIS, "DJANGO_SETTINGS_MODULE": "config.settings.production",
               "DJANGO_SECRET_KEY": key, "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0",
               "SMS_TRANSPORT": "file", "SMS_FILE_PATH": str(WORK / "sms5.jsonl"), "STATIC_ROOT": str(WORK / "static5")}
        subprocess.run([PY, "manage.py", "collectstatic", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
        web = start([str(BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{WEB}", "--workers", "2",
                     "--timeout", "30"], WORK / "drill5-web.log", env)
        for _ in range(60):
            try:
                if requests.get(f"http://127.0.0.1:{WEB}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        records: list[tuple[float, str, int, float]] = []
        stop_at = time.monotonic() + 40
        marks: dict[str, float] = {}

        def load() -> None:
            s = requests.Session()
            i = 0
            while time.monotonic() < stop_at:
                path = "/healthz" if i % 2 else "/api/v1/dashboards/city/0/"
                t = time.monotonic()
                try:
                    code = s.get(f"http://127.0.0.1:{WEB}{path}", timeout=10,
                                 headers={"Authorization": f"Token {token}"}).status_code
                except requests.RequestException:
                    code = 0
                records.append((t, path, code, time.monotonic()))
                i += 1
                time.sleep(max(0.0, 0.05 - (time.monotonic() - t)))

        th = threading.Thread(target=load)
        th.start()
        time.sleep(10)
        marks["restart_begin"] = time.monotonic()
        log("pg_ctl restart -m fast")
        pg_ctl("-o", opts, "-l", str(DATA / "server.log"), "-m", "fast", "-w", "restart")
        marks["back"] = time.monotonic()
        th.join()
        # By when a request ended: one that started before the restart but ran into it is "during".
        before = Counter(c for _, _, c, end in records if end < marks["restart_begin"])
        during = Counter(c for t, _, c, end in records if end >= marks["restart_begin"] and t < marks["back"])
        after = Counter(c for t, _, c, _ in records if t >= marks["back"])
        # Anything but 200 once the cluster is back is an error: a 401 would mean the API
        # half never read the database (it did, unnoticed, after the switch to knox tokens).
        errors_after = sum(n for c, n in after.items() if c != 200)
        result("drill5_postgres_restart", errors_after == 0 and after.get(200, 0) > 100 and before.get(200, 0) > 0
               and set(before) == {200},
               restart_seconds=round(marks["back"] - marks["restart_begin"], 2),
               before=dict(before), during=dict(during), after=dict(after), errors_after_back=errors_after)
    finally:
        if web:
            stop(web)
        try:
            pg_ctl("stop", "-m", "fast")
        except subprocess.CalledProcessError:
            pass


if __name__ == "__main__":
    main()
