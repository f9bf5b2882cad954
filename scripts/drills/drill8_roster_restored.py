"""Drill 8: a roster re-exported after a restoration, and rerun after a crash mid-export.

A population (state of 2026-11-20, with suspended people) on two copies of one database:
  control   export 2026-12 → restorations → re-export 2026-12 → export 2027-01, uninterrupted;
  drilled   the same, but the 2027-01 export is killed with SIGKILL while it runs (the first
            time at ~50% of the control's duration, so inside the month's closing; again
            until one kill lands while it runs, at most 3), then rerun.
The restorations: hospital records dated 2026-12-01 for 1,000 suspended people, imported
and matched on 2026-12-02 — they are restored with back-pay for the months they were
withheld, December included (December was already closed as "suspended" for them).
Pass:
  * no (pensioner, month) is paid twice (ledger rows of kind pay/back_pay), in either;
  * the re-export of 2026-12 after the restorations is byte-for-byte the first file;
  * the ledger of the drilled copy equals the control's (every row: roster month,
    pensioner, kind, month, amount) and the 2027-01 files are identical;
  * every restored person's withheld December is paid exactly once (back-pay in 2027-01).

    .venv/bin/python scripts/drills/drill8_roster_restored.py
"""
# ruff: noqa: S603, S607, S608, S311 - an ops script: fixed commands, our own table names, test data

from __future__ import annotations

import os
import random
import signal
import subprocess
import time

from common import (
    PY,
    WORK,
    db_url,
    drop_db,
    env_for,
    log,
    manage,
    populate,
    query,
    recreate_db,
    result,
    sha,
    start,
    start_clean,
    stop,
)

N = int(os.environ.get("DRILL8_PENSIONERS", "30000"))
RESTORED = int(os.environ.get("DRILL8_RESTORED", "1000"))
MATCH_DAY = "2026-12-02"
EVIDENCE_DAY = "2026-12-01"  # not after the real today (import refuses future dates)
LEDGER = ("SELECT md5(string_agg(concat_ws('|', roster_month, pensioner_id, kind, month, amount), ',' "
          "ORDER BY roster_month, pensioner_id, kind, month)), count(*) FROM certification_ledgerentry")
PAID_TWICE = ("SELECT count(*) FROM (SELECT pensioner_id, month FROM certification_ledgerentry "
              "WHERE kind IN ('pay', 'back_pay') GROUP BY 1, 2 HAVING count(*) > 1) x")


def export(url: str, month: str, out: str) -> dict:
    return manage(url, "export_payment_roster", "--month", month, "--output", out)


def restore_some(url: str, tag: str) -> tuple[int, list[int]]:
    """Hospital records for suspended people, matched: they are restored with back-pay."""
    people = query(url, "SELECT id, id_number FROM certification_pensioner WHERE status = 'suspended' "
                        "AND death_date IS NULL ORDER BY id")
    pick = random.Random(8).sample(people, min(RESTORED, len(people)))
    feed = WORK / f"drill8-{tag}-hospital.csv"
    with feed.open("w", encoding="utf-8") as fh:
        fh.write("id_number,event_date,source_ref\n")
        for i, (_, idn) in enumerate(pick):
            fh.write(f"{idn},{EVIDENCE_DAY},R8-{i}\n")
    manage(url, "import_evidence", str(feed), "--source", "hospital")
    manage(url, "run_matching", "--today", MATCH_DAY)
    ids = sorted(p for p, _ in pick)
    restored = query(url, "SELECT count(DISTINCT pensioner_id) FROM certification_statuschange "
                          "WHERE old_status = 'suspended' AND new_status IN ('active', 'warning') "
                          "AND pensioner_id = ANY(%s)", [ids])[0][0]
    return restored, ids


def ledger(url: str) -> tuple[str, int]:
    row = query(url, LEDGER)[0]
    return row[0] or "", int(row[1])


def run_drill(base: str, *, pensioners: int) -> dict:
    recreate_db(base)
    log(f"populate {pensioners}")
    populate(db_url(base), pensioners)
    ctl, drl = f"{base}_ctl", f"{base}_drl"
    recreate_db(ctl, template=base)
    recreate_db(drl, template=base)
    files = {k: str(WORK / f"drill8-{k}.csv") for k in ("ctl-dec", "ctl-dec2", "ctl-jan", "drl-dec", "drl-dec2",
                                                         "drl-jan")}
    try:
        out: dict = {}
        for tag, name in (("ctl", ctl), ("drl", drl)):
            url = db_url(name)
            log(f"[{tag}] export 2026-12, restore, re-export 2026-12")
            out[f"{tag}_dec"] = export(url, "2026-12", files[f"{tag}-dec"])
            restored, ids = restore_some(url, tag)
            out[f"{tag}_restored"] = restored
            out[f"{tag}_dec_again"] = export(url, "2026-12", files[f"{tag}-dec2"])
            if tag == "ctl":
                t0 = time.monotonic()
                out["ctl_jan"] = export(url, "2027-01", files["ctl-jan"])
                jan_seconds = time.monotonic() - t0
                out["ctl_jan_seconds"] = round(jan_seconds, 2)
                restored_ids = ids
            else:
                kills = []
                for attempt in range(3):
                    cmd = [PY, "manage.py", "export_payment_roster", "--month", "2027-01", "--output", files["drl-jan"]]
                    proc = start(cmd, None, env_for(url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    # Django start-up is ~most of it on a small roster: aim for the middle of the command.
                    time.sleep(max(0.2, jan_seconds * (0.5 + 0.15 * attempt)))
                    alive = proc.poll() is None
                    stop(proc, signal.SIGKILL)
                    closed = query(url, "SELECT count(*) FROM certification_rostermonth WHERE month = '2027-01-01'")[0][0]
                    kills.append({"killed_while_running": alive, "month_closed_before_rerun": bool(closed)})
                    if alive:
                        break
                out["drl_kills"] = kills
                # The killed export's backend may still hold the ledger lock for a moment.
                for _ in range(30):
                    try:
                        out["drl_jan"] = export(url, "2027-01", files["drl-jan"])
                        break
                    except RuntimeError:
                        time.sleep(1)
        c_ledger, d_ledger = ledger(db_url(ctl)), ledger(db_url(drl))
        twice = {"control": query(db_url(ctl), PAID_TWICE)[0][0], "drilled": query(db_url(drl), PAID_TWICE)[0][0]}
        dec_paid_once = query(db_url(drl), "SELECT count(*) FROM (SELECT pensioner_id FROM certification_ledgerentry "
                                           "WHERE month = '2026-12-01' AND kind IN ('pay', 'back_pay') "
                                           "AND pensioner_id = ANY(%s) GROUP BY 1 HAVING count(*) = 1) x",
                              [restored_ids])[0][0]
        dec_back_paid = query(db_url(drl), "SELECT count(*) FROM certification_ledgerentry WHERE month = '2026-12-01' "
                                           "AND kind = 'back_pay' AND roster_month = '2027-01-01'")[0][0]
        same = {
            "dec_reexport_same_file": {t: sha(WORK / f"drill8-{t}-dec.csv") == sha(WORK / f"drill8-{t}-dec2.csv")
                                       for t in ("ctl", "drl")},
            "jan_files_equal": sha(WORK / "drill8-ctl-jan.csv") == sha(WORK / "drill8-drl-jan.csv"),
            "ledger_equal": c_ledger == d_ledger,
        }
        killed = any(k["killed_while_running"] for k in out.get("drl_kills", []))
        passed = (killed and twice == {"control": 0, "drilled": 0} and all(same["dec_reexport_same_file"].values())
                  and same["jan_files_equal"] and same["ledger_equal"] and "drl_jan" in out
                  and out["drl_restored"] > 0 and dec_back_paid == dec_paid_once == out["drl_restored"])
        return {"passed": passed, "paid_twice": twice, **same, "ledger_rows": {"control": c_ledger[1],
                "drilled": d_ledger[1]}, "restored_december_paid_once": dec_paid_once,
                "december_back_paid_in_january": dec_back_paid, **out}
    finally:
        drop_db(ctl)
        drop_db(drl)


def main() -> None:
    start_clean()
    figures = run_drill("portal_h4_drill8", pensioners=N)
    result("drill8_roster_restored", figures.pop("passed"), pensioners=N, **figures)


if __name__ == "__main__":
    main()
