"""Drill 2: two run_matching at once on the same database.

Same population and waiting feeds as drill 1. Two runs start together; the run lock
(a PostgreSQL advisory lock) lets one work and the other exits non-zero with a JSON
error saying another run holds the lock. Pass: exactly one succeeds, the loser's last
line is a JSON error, and the result equals an uninterrupted single run on a copy.

    .venv/bin/python scripts/drills/drill2_concurrent_matching.py
"""
# ruff: noqa: S603, S607, S608, S311 - an ops script: fixed commands, our own table names, test data

from __future__ import annotations

import json
import os
import subprocess

from common import (
    MATCH_TABLES,
    PY,
    db_url,
    drop_db,
    env_for,
    log,
    manage,
    pensioner_checksum,
    prepare_matching_db,
    recreate_db,
    result,
    start,
    start_clean,
    table_counts,
)

DAY = "2026-11-21"


def main() -> None:
    start_clean()
    n = int(os.environ.get("DRILL2_PENSIONERS", "200000"))
    url = prepare_matching_db("portal_h4_drill2", n, n * 3 // 2)
    recreate_db("portal_h4_drill2_ctl", template="portal_h4_drill2")
    ctl = db_url("portal_h4_drill2_ctl")
    try:
        manage(ctl, "run_matching", "--today", DAY)
        control = {"checksum": pensioner_checksum(ctl), **table_counts(ctl, MATCH_TABLES)}
        log("two runs at once")
        procs = [start([PY, "manage.py", "run_matching", "--today", DAY], None, env_for(url),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=1800) for p in procs]
        codes = [p.returncode for p in procs]
        last = [json.loads(o.strip().splitlines()[-1]) if o.strip() else {} for o, _ in outs]
        drilled = {"checksum": pensioner_checksum(url), **table_counts(url, MATCH_TABLES)}
        winners = [j for c, j in zip(codes, last, strict=True) if c == 0]
        losers = [j for c, j in zip(codes, last, strict=True) if c != 0]
        passed = (drilled == control) and (
            (len(winners) == 1 and len(losers) == 1 and "error" in losers[0])
            or (len(winners) == 2)  # serialised: the second found nothing to do
        )
        result("drill2_concurrent_matching", passed, exit_codes=codes, outputs=last, control=control, drilled=drilled)
    finally:
        drop_db("portal_h4_drill2_ctl")


if __name__ == "__main__":
    main()
