"""Drill 6: 10,000 mixed good and bad feed rows: every good row is in, every bad row is reported.

The feed (CSV, hospital source) has, shuffled:
* 6,000 good rows for existing pensioners (three date formats),
* 500 good rows with valid IDs of nobody (→ `unmatched`, kept, not an error),
* 3,500 bad rows of seven kinds (check digit, short ID, impossible date, unparsable
  date, future date, missing field, over-long source_ref).

Pass: the import's counts add up (rows = accepted + duplicates + rejected +
unmatched), every good row's (source_ref) is in bigdata_evidence, the errors file
lists exactly the bad rows' line numbers, each with a reason; a second import of
the same file adds nothing.

    .venv/bin/python scripts/drills/drill6_mixed_feed.py
"""
# ruff: noqa: S603, S607, S608, S311 - an ops script: fixed commands, our own table names, test data

from __future__ import annotations

import csv
import datetime as dt
import random
import sys

from common import WORK, db_url, log, manage, populate, query, recreate_db, result, start_clean

sys.path.insert(0, str(WORK.parents[1]))
from certification import idnumber  # noqa: E402

TODAY = "2026-11-20"


def bad_row(kind: int, rnd: random.Random, good_id: str, i: int) -> list[str]:
    ref = f"BAD{i}"
    if kind == 0:  # wrong check digit
        last = "0" if good_id[-1] != "0" else "1"
        return [good_id[:17] + last, "2026-06-23", ref]
    if kind == 1:  # too short
        return [good_id[:15], "2026-06-23", ref]
    if kind == 2:  # impossible calendar date
        return [good_id, "2026-02-30", ref]
    if kind == 3:  # not a date at all
        return [good_id, "23/06/26 morning", ref]
    if kind == 4:  # in the future
        return [good_id, "2027-03-01", ref]
    if kind == 5:  # missing source_ref
        return [good_id, "2026-06-23", ""]
    return [good_id, "2026-06-23", "R" * 300]  # source_ref too long


def main() -> None:
    start_clean()
    name = "portal_h4_drill6"
    url = db_url(name)
    recreate_db(name)
    populate(url, 20000, TODAY)
    ids = [r[0] for r in query(url, "SELECT id_number FROM certification_pensioner WHERE status <> 'deceased' "
                                    "ORDER BY id LIMIT 6000")]
    rnd = random.Random(6)
    rows: list[tuple[str, list[str]]] = []
    fmts = ["%Y-%m-%d", "%Y%m%d", "%Y/%m/%d"]
    for i, idn in enumerate(ids):
        d = dt.date(2026, 11, 20) - dt.timedelta(days=rnd.randint(0, 300))
        rows.append(("good", [idn, d.strftime(fmts[i % 3]), f"G{i}"]))
    for i in range(500):
        nobody = idnumber.make("110101", dt.date(1950, 1, 1) + dt.timedelta(days=i), 777)
        rows.append(("unmatched", [nobody, "2026-05-01", f"U{i}"]))
    for i in range(3500):
        rows.append(("bad", bad_row(i % 7, rnd, rnd.choice(ids), i)))
    rnd.shuffle(rows)
    path = WORK / "drill6_feed.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id_number", "event_date", "source_ref"])
        for _, r in rows:
            w.writerow(r)
    # Line numbers as a reader counts them: the header is line 1.
    bad_lines = {n + 2 for n, (kind, _) in enumerate(rows) if kind == "bad"}
    good_refs = {r[2] for kind, r in rows if kind in ("good", "unmatched")}
    log("import_evidence")
    first = manage(url, "import_evidence", str(path), "--source", "hospital")
    stored = {r[0] for r in query(url, "SELECT source_ref FROM bigdata_evidence")}
    with open(first["errors_file"], encoding="utf-8-sig", newline="") as fh:
        reported = list(csv.DictReader(fh))
    reported_lines = {int(r["line"]) for r in reported}
    second = manage(url, "import_evidence", str(path), "--source", "hospital")
    checks = {
        "buckets_add_up": first["rows"] == first["accepted"] + first["duplicates"] + first["rejected"] + first["unmatched"],
        "rows_10000": first["rows"] == 10000,
        "every_good_row_in": good_refs <= stored and first["accepted"] == 6000 and first["unmatched"] == 500,
        "every_bad_row_reported": reported_lines == bad_lines and first["rejected"] == 3500,
        "every_report_has_a_reason": all(r["reason"].strip() for r in reported),
        "rerun_adds_nothing": second["accepted"] == 0 and second["unmatched"] == 0
        and len({r[0] for r in query(url, "SELECT source_ref FROM bigdata_evidence")}) == len(stored),
    }
    reasons: dict[str, int] = {}
    for r in reported:
        key = r["reason"].split("：")[0]
        reasons[key] = reasons.get(key, 0) + 1
    result("drill6_mixed_feed", all(checks.values()), first_import=first, second_import=second, checks=checks,
           reasons=reasons)


if __name__ == "__main__":
    main()
