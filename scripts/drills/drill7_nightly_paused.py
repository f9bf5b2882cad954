"""Drill 7: the nightly job stopped for 5 nights, then resumed.

A population (scripts/bench_dashboard_populate.py, state of 2026-11-20) gets the night
of D0 = 2027-01-14 (a night with thousands of people entering warning or suspension).
The database is then copied (CREATE DATABASE … TEMPLATE):
  control  runs the night every day, D1 … D6 (2027-01-15 … 2027-01-20);
  paused   runs nothing for D1 … D5 (beat and workers down), then only D6.
Pass:
  * every reminder event of those days is in the paused outbox exactly once: the set
    of outbox dedup keys written after D0 equals the control's (none lost, none extra),
    with no key twice and no (pensioner, template, text) twice — except a warning
    reminder or "suspension soon" for someone suspended by the day it resumed: the
    suspension notice supersedes it (counted apart as superseded_by_suspension);
  * every status-change row is claimed (processed_at set) in both;
  * the dashboard snapshot exists for D6 (the day it resumed);
  * the pensioner checksum equals the control's.
Nights run with eager Celery (`manage.py run_nightly --today`), the clock is the
--today option: no sleeping.

    .venv/bin/python scripts/drills/drill7_nightly_paused.py
"""
# ruff: noqa: S603, S607, S608 - an ops script: fixed commands, our own table names

from __future__ import annotations

import datetime as dt
import os
import time

from common import (
    db_url,
    drop_db,
    log,
    manage,
    pensioner_checksum,
    populate,
    query,
    recreate_db,
    result,
    start_clean,
)

N = int(os.environ.get("DRILL7_PENSIONERS", "30000"))
D0 = dt.date(2027, 1, 14)
NIGHTS = 6  # D1 … D6; the paused copy runs only the last
EAGER = {"REDIS_URL": "", "CELERY_BROKER_URL": "memory://", "CELERY_RESULT_BACKEND": "cache+memory://",
         "CELERY_TASK_ALWAYS_EAGER": "1"}


def night(url: str, day: dt.date) -> dict:
    return manage(url, "run_nightly", "--today", day.isoformat(), **EAGER)


def outbox_after(url: str, first_id: int) -> dict:
    rows = query(url, "SELECT template, dedup_key, pensioner_id, text FROM notifications_message WHERE id > %s",
                 [first_id])
    keys = [r[1] for r in rows]
    texts = [(r[2], r[0], r[3]) for r in rows]
    by_template: dict[str, int] = {}
    for r in rows:
        by_template[r[0]] = by_template.get(r[0], 0) + 1
    return {"keys": set(keys), "rows": len(rows), "keys_twice": len(keys) - len(set(keys)),
            "texts_twice": len(texts) - len(set(texts)), "by_template": by_template}


def run_drill(base: str, *, pensioners: int) -> dict:
    recreate_db(base)
    log(f"populate {pensioners}")
    populate(db_url(base), pensioners)
    log(f"night D0 {D0}")
    night(db_url(base), D0)
    first_id = query(db_url(base), "SELECT coalesce(max(id), 0) FROM notifications_message")[0][0]
    ctl, paused = f"{base}_ctl", f"{base}_paused"
    recreate_db(ctl, template=base)
    recreate_db(paused, template=base)
    days = [D0 + dt.timedelta(days=k) for k in range(1, NIGHTS + 1)]
    try:
        t0 = time.monotonic()
        for d in days:
            log(f"control night {d}")
            night(db_url(ctl), d)
        control_seconds = time.monotonic() - t0
        log(f"paused: nothing for {days[0]} … {days[-2]}, then {days[-1]}")
        t0 = time.monotonic()
        resumed = night(db_url(paused), days[-1])
        resume_seconds = time.monotonic() - t0
        c, p = outbox_after(db_url(ctl), first_id), outbox_after(db_url(paused), first_id)
        missing = sorted(c["keys"] - p["keys"])
        extra = sorted(p["keys"] - c["keys"])
        # A warning reminder or "suspension soon" that fell due while the job was stopped, for
        # someone suspended by the day it resumed, is superseded by the suspension notice: telling
        # them "you will be suspended on …" after the date would be wrong. Not lost.
        suspended_now = {int(r[0]) for r in query(db_url(paused), "SELECT pensioner_id FROM notifications_message "
                                                                   "WHERE template = 'suspended' AND id > %s",
                                                  [first_id])}
        superseded = [k for k in missing if k.split(":")[0] in ("warning-reminder", "suspension-soon")
                      and int(k.split(":")[1]) in suspended_now]
        lost = [k for k in missing if k not in set(superseded)]
        unclaimed = {n: query(db_url(n), "SELECT count(*) FROM certification_statuschange "
                                         "WHERE processed_at IS NULL")[0][0] for n in (ctl, paused)}
        snapshot = query(db_url(paused), "SELECT count(*) FROM dashboards_snapshot WHERE day = %s",
                         [days[-1]])[0][0]
        checksums_equal = pensioner_checksum(db_url(ctl)) == pensioner_checksum(db_url(paused))
        passed = (not lost and not extra and p["keys_twice"] == 0 and p["texts_twice"] == 0
                  and unclaimed == {ctl: 0, paused: 0} and snapshot == 1 and checksums_equal)

        def kinds(keys: list[str]) -> dict[str, int]:
            out: dict[str, int] = {}
            for k in keys:
                out[k.split(":")[0]] = out.get(k.split(":")[0], 0) + 1
            return out

        return {"passed": passed, "days": [d.isoformat() for d in days],
                "control": {"rows": c["rows"], "by_template": c["by_template"], "seconds": round(control_seconds, 1)},
                "paused": {"rows": p["rows"], "by_template": p["by_template"], "seconds": round(resume_seconds, 1),
                           "keys_twice": p["keys_twice"], "texts_twice": p["texts_twice"],
                           "reminders": resumed.get("reminders")},
                "lost": len(lost), "lost_by_kind": kinds(lost), "lost_examples": lost[:5],
                "superseded_by_suspension": len(superseded), "superseded_by_kind": kinds(superseded),
                "extra": len(extra), "extra_by_kind": kinds(extra), "extra_examples": extra[:5],
                "unclaimed_status_changes": {"control": unclaimed[ctl], "paused": unclaimed[paused]},
                "snapshot_for_resume_day": snapshot == 1, "checksum_equal": checksums_equal}
    finally:
        drop_db(ctl)
        drop_db(paused)


def main() -> None:
    start_clean()
    figures = run_drill("portal_h4_drill7", pensioners=N)
    result("drill7_nightly_paused", figures.pop("passed"), pensioners=N, **figures)


if __name__ == "__main__":
    main()
