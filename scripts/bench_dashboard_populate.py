"""Generate a city-sized population with COPY into a PostgreSQL database (never a test DB).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_dashbench \
      nice .venv/bin/python scripts/bench_dashboard_populate.py --pensioners 2000000 --today 2026-11-20

Creates the database if missing, migrates it, empties the pensioner tables and
COPYs: pensioners spread over Qingdao's street offices (statuses consistent with
rules.status on --today), ~95% of them with big-data certifications from several
sources in the last year, a few percent certified by other channels, and the
status-change / back-pay / overpayment rows a year of operation leaves. Prints one
JSON line with counts and seconds. Used by the dashboard load test and the drills.
"""
# ruff: noqa: S603, S607, S608, S311 - an ops script: fixed commands, our own table names, test data

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

SOURCES = ["hospital", "medical_insurance", "outpatient", "transit", "dibao", "health_check", "vaccination",
           "counter_visit"]
OTHER = ["face_self", "face_proxy", "counter", "video", "home_visit"]


def ensure_database(url: str) -> None:
    import environ
    import psycopg2

    cfg = environ.Env.db_url_config(url)
    conn = psycopg2.connect(host=cfg["HOST"] or None, port=cfg["PORT"] or None, user=cfg["USER"],
                            password=cfg["PASSWORD"] or None, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pensioners", type=int, default=100_000)
    ap.add_argument("--today", default="2026-11-20")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-migrate", action="store_true")
    args = ap.parse_args()
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must be PostgreSQL")
    if "test_" in url.rsplit("/", 1)[-1]:
        sys.exit("refusing to fill a test database")
    started = time.monotonic()
    ensure_database(url)
    if not args.skip_migrate:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)

    import django

    django.setup()
    from django.db import connection

    from certification import idnumber, rules
    from certification.models import StreetOffice

    today = dt.date.fromisoformat(args.today)
    rnd = random.Random(args.seed)
    offices = list(StreetOffice.objects.values_list("id", flat=True))
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE certification_pensioner, certification_certification, certification_statuschange, "
            "certification_backpay, certification_backpayline, certification_overpayment RESTART IDENTITY CASCADE"
        )
    raw = connection.connection
    now = "2026-11-20 02:00:00+08"

    # Pensioners: ~88% active, 5% warning, 3% suspended, 4% deceased (about what the design expects).
    buf = io.StringIO()
    people: list[tuple[int, dt.date, dt.date | None, str]] = []
    for i in range(1, args.pensioners + 1):
        birth = dt.date(1930 + rnd.randint(0, 35), rnd.randint(1, 12), rnd.randint(1, 28))
        # make() keeps 3 sequence digits: the region part varies with i // 1000, so numbers stay unique.
        idn = idnumber.make(f"{370000 + (i // 1000) % 100000:06d}", birth, i % 1000)
        roll = rnd.random()
        death = None
        if roll < 0.88:
            vu = today + dt.timedelta(days=rnd.randint(0, 364))
        elif roll < 0.93:
            vu = today - dt.timedelta(days=rnd.randint(1, 85))
        elif roll < 0.96:
            vu = today - dt.timedelta(days=rnd.randint(100, 300))
        else:
            vu = today - dt.timedelta(days=rnd.randint(0, 200))
            death = today - dt.timedelta(days=rnd.randint(1, 300))
        status = "deceased" if death else rules.status(vu, today).value
        since = rules.suspension_date(vu) if status == "suspended" else None
        enrolled = today - dt.timedelta(days=rnd.choice([200, 500, 900, 2000, 3000, 4000]))
        office = offices[i % len(offices)]
        amount = rnd.choice(["2150.00", "2980.50", "3420.00", "4100.00"])
        buf.write(f"{idn}\t退休人员{i}\t{birth}\t{'M' if int(idn[16]) % 2 else 'F'}\t139{i:08d}\tf\t\t{office}\t\\N\t"
                  f"enterprise\t{amount}\t{vu}\t{status}\t{since or chr(92) + 'N'}\t{death or chr(92) + 'N'}\t\t\t"
                  f"{enrolled}\t\\N\t{now}\t{now}\n")
        people.append((i, vu, death, status))
    buf.seek(0)
    with raw.cursor() as cur:
        cur.copy_expert(
            "COPY certification_pensioner (id_number, name, birth_date, sex, phone, phone_invalid, address, "
            "street_office_id, community_id, benefit_type, monthly_amount, valid_until, status, suspended_since, "
            "death_date, special_group, relative_phone, enrolled_on, face_attempts_exhausted_on, created_at, "
            "updated_at) FROM STDIN", buf)
    raw.commit()
    t_people = time.monotonic() - started

    # Certifications: the big-data record behind each valid_until (+ a second source for some),
    # other channels for ~5%. Status changes for the warning/suspended/deceased.
    cert = io.StringIO()
    changes = io.StringIO()
    n_cert = n_change = 0
    for pk, vu, death, status in people:
        ev = rules.add_months(vu, -12)
        if ev <= today and rnd.random() < 0.95:
            src = rnd.choice(SOURCES)
            cert.write(f"{pk}\tbig_data\t{ev}\t{now}\t\\N\t\\N\t\t{src}\tR{pk}\t\n")
            n_cert += 1
            if rnd.random() < 0.4:
                d2 = ev - dt.timedelta(days=rnd.randint(1, 120))
                cert.write(f"{pk}\tbig_data\t{d2}\t{now}\t\\N\t\\N\t\t{rnd.choice(SOURCES)}\tS{pk}\t\n")
                n_cert += 1
        elif ev <= today:
            cert.write(f"{pk}\t{rnd.choice(OTHER)}\t{ev}\t{now}\t\\N\t\\N\t\t\t\t\n")
            n_cert += 1
        if status in ("warning", "suspended"):
            changes.write(f"{pk}\tactive\twarning\t{vu + dt.timedelta(days=1)}\texpired\t{vu}\t{now}\n")
            n_change += 1
        if status == "suspended":
            changes.write(f"{pk}\twarning\tsuspended\t{rules.suspension_date(vu)}\twarning_ended\t{vu}\t{now}\n")
            n_change += 1
        if death:
            changes.write(f"{pk}\tactive\tdeceased\t{death}\tdeath:death_civil\t{vu}\t{now}\n")
            n_change += 1
    for b, name, cols in [
        (cert, "certification_certification",
         "pensioner_id, method, occurred_on, recorded_at, recorded_by_id, helper_id, helper_relationship, source, "
         "evidence_ref, note"),
        (changes, "certification_statuschange",
         "pensioner_id, old_status, new_status, effective_on, reason, valid_until, created_at"),
    ]:
        b.seek(0)
        with raw.cursor() as cur:
            cur.copy_expert(f"COPY {name} ({cols}) FROM STDIN", b)
        raw.commit()
    with connection.cursor() as cur:
        # Overpayments for the dead paid past their death month (rules.overpaid_months), set-based.
        cur.execute(
            "INSERT INTO certification_overpayment (pensioner_id, death_date, months, total, state, opened_on, created_at, "
            "refund) SELECT id, death_date, '[]'::jsonb, monthly_amount * 2, 'open', %s, now(), 0 FROM certification_pensioner "
            "WHERE death_date IS NOT NULL AND id %% 2 = 0", [today])
        # Only the tables filled here: a freshly ANALYZEd *empty* bigdata_evidence makes the
        # planner pick a nested-loop anti-join for the first big import (see docs/reliability.md).
        cur.execute("ANALYZE certification_pensioner, certification_certification, certification_statuschange, "
                    "certification_overpayment")
    print(json.dumps({"pensioners": args.pensioners, "certifications": n_cert, "status_changes": n_change,
                      "seconds_pensioners": round(t_people, 1), "seconds": round(time.monotonic() - started, 1)}))


if __name__ == "__main__":
    main()
