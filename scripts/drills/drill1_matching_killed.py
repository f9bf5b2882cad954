"""Drill 1: kill -9 run_matching midway, rerun it, compare with an uninterrupted run.

200,000 pensioners, 300,000 imported hospital records and 1,000 death records
waiting to be matched. A copy of the database (CREATE DATABASE … TEMPLATE) gets an
uninterrupted run; the original gets a run killed with SIGKILL at ~40% of the
control's duration, then a rerun. Pass: same pensioner-table checksum (md5 over id,
id_number, valid_until, status, suspended_since, death_date, amount) and the same
number of certification, status-change, back-pay, overpayment and fraud-alert rows.

    .venv/bin/python scripts/drills/drill1_matching_killed.py
"""
# ruff: noqa: S603, S607, S608, S311 - an ops script: fixed commands, our own table names, test data

from __future__ import annotations

import os
import signal
import time

from common import (
    MATCH_TABLES,
    PY,
    WORK,
    db_url,
    drop_db,
    env_for,
    log,
    manage,
    pensioner_checksum,
    prepare_matching_db,
    query,
    recreate_db,
    result,
    start,
    start_clean,
    stop,
    table_counts,
)

DAY = "2026-11-21"


def _run_started(url: str) -> bool:
    return query(url, "SELECT count(*) FROM bigdata_matchingrun WHERE status = 'running' AND run_on = %s",
                 [DAY])[0][0] > 0


def run_drill(base: str, *, pensioners: int = 200_000, evidence: int = 300_000, extra_env: dict | None = None,
              template: str | None = None) -> dict:
    """The drill on databases `base` and `base`_ctl; returns its figures and `passed`. Used by the CI copy too."""
    extra = extra_env or {}
    url = prepare_matching_db(base, pensioners, evidence, template=template)
    ctl = db_url(f"{base}_ctl")
    recreate_db(f"{base}_ctl", template=base)
    try:
        log("control: uninterrupted run_matching")
        t0 = time.monotonic()
        control_json = manage(ctl, "run_matching", "--today", DAY, **extra)
        control_seconds = time.monotonic() - t0
        control = {"checksum": pensioner_checksum(ctl), **table_counts(ctl, MATCH_TABLES)}
        before = pensioner_checksum(url)

        log("drill: run_matching, SIGKILL at ~40% of the matching's own time after its run row appears")
        proc = start([PY, "manage.py", "run_matching", "--today", DAY], WORK / f"{base}-killed.log",
                     env_for(url, **extra))
        deadline = time.monotonic() + max(120, control_seconds * 5)
        while proc.poll() is None and not _run_started(url) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(max(0.2, float(control_json.get("seconds", control_seconds)) * 0.4))
        killed_running = proc.poll() is None
        stop(proc, signal.SIGKILL)
        after_kill = pensioner_checksum(url)
        # The killed client's PostgreSQL backend finishes its current statement before it
        # notices the dead socket; until then it holds the advisory run lock and a rerun
        # says "already running". Retry as an operator (or the next beat) would.
        log("rerun (retrying while the dead run's backend still holds the lock)")
        lock_waits, rerun_json = 0, {}
        for _ in range(120):
            rerun_json = manage(url, "run_matching", "--today", DAY, check=False, **extra)
            if "error" not in rerun_json and rerun_json.get("returncode", 0) == 0:
                break
            lock_waits += 1
            time.sleep(2)
        drilled = {"checksum": pensioner_checksum(url), **table_counts(url, MATCH_TABLES)}
        again = manage(url, "run_matching", "--today", DAY, **extra)
        unchanged = pensioner_checksum(url) == drilled["checksum"]
        passed = killed_running and drilled == control and unchanged
        return {"passed": passed, "control_seconds": round(control_seconds, 1), "lock_waits": lock_waits,
                "killed_while_running": killed_running, "state_changed_by_killed_run": after_kill != before,
                "control": control, "drilled": drilled, "control_run": control_json, "rerun": rerun_json,
                "third_run_changes_nothing": unchanged, "third_run": again}
    finally:
        drop_db(f"{base}_ctl")


def main() -> None:
    start_clean()
    n = int(os.environ.get("DRILL1_PENSIONERS", "200000"))
    figures = run_drill("portal_h4_drill1", pensioners=n, evidence=n * 3 // 2)
    result("drill1_matching_killed", figures.pop("passed"), pensioners=n, **figures)


if __name__ == "__main__":
    main()
