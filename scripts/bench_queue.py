#!/usr/bin/env python
"""Benchmark the staff warning queue (issue 5): PostgreSQL, gunicorn with 2 workers,
100,000 warning pensioners in one street office.

1. Open loop: requests at a FIXED arrival rate (default 20/s), each scheduled at
   t0 + i/rate whatever happened before, latency measured from the scheduled
   time (so a stall is not hidden: no coordinated omission). wrk2 is not
   available here, so this is a small Python generator with a thread pool.
2. Saturation: wrk (closed loop) on the queue page and, in the same run, on a
   trivial page of the same portal (the landing page "/") as the floor.

Usage (needs DATABASE_URL to PostgreSQL; nothing else runs afterwards):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_ops \\
      nice .venv/bin/python scripts/bench_queue.py [--port 8301] [--rate 20] [--seconds 30]
Prints progress to stderr and one JSON object on the last line of stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen  # noqa: E402

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

OFFICE = "八大关街道"
N = 100_000
NAME_PREFIX = "压测"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def setup_django() -> None:
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench_queue needs PostgreSQL: set DATABASE_URL")


def populate(n: int) -> tuple[int, str]:
    """n warning pensioners in one office, spread over 10 communities. Reused if already there."""
    from django.core.management import call_command
    from django.db import connection

    from certification import idnumber, rules
    from certification.models import Community, Pensioner, StreetOffice

    call_command("migrate", verbosity=0)
    office = StreetOffice.objects.get(name=OFFICE)
    communities = [Community.objects.get_or_create(street_office=office, name=f"压测第{i}社区")[0] for i in range(10)]
    have = Pensioner.objects.filter(street_office=office, name__startswith=NAME_PREFIX, status="warning").count()
    today = rules.today_local()
    if have != n:
        log(f"populating {n} warning pensioners in {OFFICE} (had {have}) …")
        Pensioner.objects.filter(name__startswith=NAME_PREFIX).delete()
        floor = rules.earliest_unsuspended_valid_until(today)
        span = (today - floor).days - 1
        batch = []
        t0 = time.monotonic()
        for i in range(n):
            birth = dt.date(1930, 1, 1) + dt.timedelta(days=i // 1000)
            number = idnumber.make("370202", birth, i % 1000)
            batch.append(Pensioner(
                id_number=number, name=f"{NAME_PREFIX}{i}", birth_date=birth, sex="M" if i % 2 else "F",
                phone=f"138{i:08d}", street_office=office, community=communities[i % 10],
                monthly_amount=Decimal("3000.00"), valid_until=floor + dt.timedelta(days=i % span),
                status="warning", enrolled_on=dt.date(2020, 1, 1),
                special_group="aged_80" if i % 7 == 0 else "",
            ))
            if len(batch) == 5000:
                Pensioner.objects.bulk_create(batch)
                batch.clear()
        Pensioner.objects.bulk_create(batch)
        log(f"  inserted in {time.monotonic() - t0:.1f}s")
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE certification_pensioner")
    return office.pk, str(communities[3].pk)


def session_cookie(office_id: int) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from certification.models import User

    user, _ = User.objects.get_or_create(username="bench_staff", defaults={"role": "staff"})
    user.street_offices.set([office_id])
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return f"{settings.SESSION_COOKIE_NAME}={s.session_key}"


def start_gunicorn(port: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_DEBUG": "0", "DB_CONN_MAX_AGE": "60", "LOG_LEVEL": "WARNING",
           "AXES_ENABLED": "0"}
    proc = subprocess.Popen(  # noqa: S603 - our own gunicorn
        [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi:application", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)  # noqa: S310 - loopback
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    sys.exit("gunicorn did not start")


def open_loop(url: str, cookie: str, rate: float, seconds: float) -> dict:
    """The queue page must render rows (a 200 with an empty table would hide a bug)."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return loadgen.open_loop(f"{parts.scheme}://{parts.netloc}", [path], cookie, rate, seconds,
                             ok=lambda status, body: status == 200 and b"row" in body)


def wrk(url: str, cookie: str | None, seconds: int, connections: int) -> dict:
    return loadgen.wrk(url, cookie, seconds, connections=connections)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8301)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--wrk-seconds", type=int, default=20)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--pensioners", type=int, default=N)
    args = ap.parse_args()

    setup_django()
    office_id, community = populate(args.pensioners)
    cookie = session_cookie(office_id)
    from django.db import connection

    connection.close()
    base = f"http://127.0.0.1:{args.port}"
    queue_url = f"{base}/staff/queue/?status=warning&community={community}"
    queue_unfiltered = f"{base}/staff/queue/"
    trivial_url = f"{base}/"
    gun = start_gunicorn(args.port)
    try:
        for u in (queue_url, queue_unfiltered, trivial_url):  # warm both workers
            for _ in range(10):
                req = urllib.request.Request(u, headers={"Cookie": cookie} if "staff" in u else {})  # noqa: S310 - loopback
                urllib.request.urlopen(req, timeout=10).read()  # noqa: S310 - loopback
        log(f"open loop {args.rate}/s for {args.seconds}s: {queue_url}")
        ol = open_loop(queue_url, cookie, args.rate, args.seconds)
        log(f"  {ol}")
        ol_all = open_loop(queue_unfiltered, cookie, args.rate, args.seconds / 2)
        log(f"  unfiltered: {ol_all}")
        log("saturation (wrk): queue, then the trivial page")
        sat_queue = wrk(queue_url, cookie, args.wrk_seconds, args.connections)
        sat_trivial = wrk(trivial_url, None, args.wrk_seconds, args.connections)
        # A second floor with the same session cookie: "/" loads the session and the
        # user and answers 302 to the workbench (the queue's fixed per-request cost).
        sat_trivial_auth = wrk(trivial_url, cookie, args.wrk_seconds, args.connections)
        log(f"  queue {sat_queue}  trivial {sat_trivial}  trivial+session {sat_trivial_auth}")
    finally:
        gun.terminate()
        gun.wait(timeout=20)
    result = {
        "pensioners_in_office": args.pensioners,
        "open_loop_filtered": ol,
        "open_loop_unfiltered": ol_all,
        "saturation_queue_rps": sat_queue["rps"],
        "saturation_trivial_rps": sat_trivial["rps"],
        "ratio": round(sat_queue["rps"] / sat_trivial["rps"], 3),
        "saturation_trivial_session_rps": sat_trivial_auth["rps"],
        "ratio_vs_session_floor": round(sat_queue["rps"] / sat_trivial_auth["rps"], 3),
        "p95_target_ms": 150,
        "ratio_target": 0.5,
        "wrk": {"queue": sat_queue, "trivial": sat_trivial, "trivial_session": sat_trivial_auth,
                "connections": args.connections},
        "load_average_after": os.getloadavg()[0],
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
