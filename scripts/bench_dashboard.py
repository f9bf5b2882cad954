"""Dashboard load test at city scale (DESIGN target: 2,000,000 pensioners on PostgreSQL).

    # once: nice .venv/bin/python scripts/bench_dashboard_populate.py --pensioners 2000000 (DATABASE_URL=…/portal_dashbench)
    nice .venv/bin/python scripts/bench_dashboard.py [--rate 20] [--seconds 60] [--port 8550]

In ONE run, against gunicorn with production settings on the populated database:
1. builds the snapshot for --today if it is missing (the nightly step), timed;
2. open loop: requests at fixed arrival times (rate/s, not "send when the last
   returned"), rotating over the city, a district and a street-office dashboard;
   latency is measured from each request's SCHEDULED time, so a stall counts
   against every request queued behind it (no coordinated omission);
3. saturation with wrk (closed loop, 8 connections): the dashboard pages and a
   trivial page (the sign-in form: a template, no queries), each for --wrk-seconds.
Prints one JSON object; docs/performance.md ("Dashboards") records the figures.
"""
# ruff: noqa: S603, S607, S608, S311 - an ops script: fixed commands, our own table names, test data

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python")


def shell(env: dict[str, str], code: str) -> str:
    proc = subprocess.run([PY, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return proc.stdout.strip().splitlines()[-1]


def open_loop(base: str, paths: list[str], cookie: str, rate: float, seconds: float) -> dict:
    return loadgen.open_loop(base, paths, cookie, rate, seconds, threads=32)


def wrk(url: str, cookie: str, seconds: int, paths: list[str] | None = None) -> dict:
    return loadgen.wrk(url, cookie, seconds, paths=paths)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                              "postgres://postgres@127.0.0.1:5432/portal_dashbench"))
    ap.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5"))
    ap.add_argument("--today", default="2026-11-20")
    ap.add_argument("--rate", type=float, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--wrk-seconds", type=int, default=20)
    ap.add_argument("--port", type=int, default=8550)
    ap.add_argument("--workers", type=int, default=3)
    args = ap.parse_args()

    env = {**os.environ, "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url,
           "DJANGO_SETTINGS_MODULE": "config.settings.production", "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
           "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0", "SMS_TRANSPORT": "file",
           "SMS_FILE_PATH": str(ROOT / "var" / "bench" / "sms.jsonl"), "STATIC_ROOT": str(ROOT / "var" / "bench" / "static"),
           "LOG_LEVEL": "WARNING"}
    pensioners = int(shell(env, "from certification.models import Pensioner; print(Pensioner.objects.count())"))
    snap = json.loads(shell(env, (
        "import datetime as dt, json\nfrom certification.dashboards.models import Snapshot\n"
        "from certification.dashboards.services import snapshot_build\n"
        f"day = dt.date.fromisoformat({args.today!r})\n"
        "s = Snapshot.objects.filter(day=day).first()\n"
        "print(json.dumps({'day': str(day), 'seconds': s.seconds, 'rows': s.rows, 'reused': True}) if s else "
        "json.dumps(snapshot_build(today=day)))")))
    session = shell(env, (
        "from django.contrib.sessions.backends.db import SessionStore\nfrom certification.models import User, StreetOffice\n"
        "u, _ = User.objects.get_or_create(username='bench-admin', defaults={'role': 'admin'})\n"
        "s = SessionStore(); s['_auth_user_id'] = str(u.pk); "
        "s['_auth_user_backend'] = 'django.contrib.auth.backends.ModelBackend'; "
        "s['_auth_user_hash'] = u.get_session_auth_hash()\n"
        # Production requires the second factor (issue 13): the bench session has passed it.
        "from django_otp.plugins.otp_totp.models import TOTPDevice\n"
        "d, _ = TOTPDevice.objects.get_or_create(user=u, name='bench', defaults={'confirmed': True})\n"
        "s['otp_device_id'] = d.persistent_id; s.create()\n"
        "o = StreetOffice.objects.get(name='八大关街道')\n"
        "print(f'{s.session_key} {o.district_id} {o.pk}')"))
    key, district, office = session.split()
    cookie = f"sessionid={key}"
    paths = ["/dashboards/", f"/dashboards/district/{district}/", f"/dashboards/office/{office}/"]
    subprocess.run([PY, "manage.py", "collectstatic", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = open(ROOT / "var" / "bench" / "gunicorn.log", "ab")  # noqa: SIM115 - closed with the process
    web = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi:application", "--bind",
                            f"127.0.0.1:{args.port}", "--workers", str(args.workers), "--timeout", "60"],
                           cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(120):
            try:
                if requests.get(base + "/login/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        for p in paths:  # warm each worker's connections and check the pages really render for an admin
            r = requests.get(base + p, headers={"Cookie": cookie}, timeout=30)
            assert r.status_code == 200 and "静默认证通过率" in r.text, (p, r.status_code)
        loop = open_loop(base, paths, cookie, args.rate, args.seconds)
        sat_dash = wrk(base + paths[0], cookie, args.wrk_seconds, paths)
        sat_trivial = wrk(base + "/login/", cookie, args.wrk_seconds)
    finally:
        web.terminate()
        web.wait(timeout=30)
    ratio = sat_dash["rps"] / sat_trivial["rps"]
    print(json.dumps({
        "pensioners": pensioners, "snapshot": snap, "gunicorn_workers": args.workers,
        "open_loop_dashboard": loop, "saturation_dashboard": sat_dash, "saturation_trivial": sat_trivial,
        "throughput_ratio": round(ratio, 3),
        "targets_met": {"p95_le_200ms": loop["p95_ms"] <= 200 and loop["errors"] == 0, "ratio_ge_0_5": ratio >= 0.5},
    }))


if __name__ == "__main__":
    sys.exit(main())
