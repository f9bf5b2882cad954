"""A re-exported roster never pays a month twice (DESIGN §2 payment ledger; issue 9 finding 2)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from certification.models import BackPay, LedgerEntry
from tests.bigdata.conftest import make_id

pytestmark = pytest.mark.django_db

ID = make_id(902)


def last_json(*args: str) -> dict:  # type: ignore[type-arg]
    out = io.StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def export(tmp_path: Path, month: str, name: str) -> tuple[dict, list[dict[str, str]]]:  # type: ignore[type-arg]
    path = tmp_path / name
    result = last_json("export_payment_roster", "--month", month, "--output", str(path))
    return result, list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))


def mine(rows: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return sorted((r["类别代码"], r["所属月份"], r["金额（元）"]) for r in rows if r["身份证号"] == ID)


def test_restoring_after_a_closed_month_pays_that_month_once_in_the_next_roster(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id_number,name,phone,street_office,monthly_amount,valid_until\n"
                      f"{ID},李秀英,13900000902,八大关街道,2345.67,2026-04-10\n", encoding="utf-8")
    last_json("import_pensioners", str(roster))
    last_json("run_matching", "--today", "2026-12-01")  # suspended since 2026-07-11

    dec, dec_rows = export(tmp_path, "2026-12", "dec-1.csv")
    assert dec["closed_now"] is True
    assert mine(dec_rows) == [("suspended", "2026-12", "2345.67")]

    feed = tmp_path / "counter.csv"
    feed.write_text(f"id_number,event_date,source_ref\n{ID},2026-12-01,GT-1\n", encoding="utf-8")
    last_json("import_evidence", str(feed), "--source", "counter_visit")
    assert last_json("run_matching", "--today", "2026-12-02")["restored"] == 1
    bp = BackPay.objects.get(pensioner__id_number=ID)
    # Aug–Nov (before the ledger, suspended on their 1st) and December (closed, withheld).
    assert [ln.month for ln in bp.lines.order_by("month")] == [dt.date(2026, m, 1) for m in (8, 9, 10, 11, 12)]
    assert bp.total == Decimal("11728.35")

    again, again_rows = export(tmp_path, "2026-12", "dec-2.csv")
    assert again["closed_now"] is False
    assert mine(again_rows) == [("suspended", "2026-12", "2345.67")]  # what was recorded, nothing new
    assert (tmp_path / "dec-1.csv").read_bytes() == (tmp_path / "dec-2.csv").read_bytes()

    jan, jan_rows = export(tmp_path, "2027-01", "jan.csv")
    assert mine(jan_rows) == sorted([("pay", "2027-01", "2345.67")] + [
        ("back_pay", f"2026-{m:02d}", "2345.67") for m in (8, 9, 10, 11, 12)])
    assert (jan["back_pay_lines"], jan["back_pay_amount"]) == (5, "11728.35")
    bp.refresh_from_db()
    assert bp.paid_on is not None
    assert set(bp.lines.values_list("paid_in", flat=True)) == {dt.date(2027, 1, 1)}

    # Re-exporting both months, in any order, pays no (person, month) twice.
    export(tmp_path, "2027-01", "jan-2.csv")
    export(tmp_path, "2026-12", "dec-3.csv")
    paid = list(LedgerEntry.objects.filter(pensioner__id_number=ID, kind__in=["pay", "back_pay"])
                .values_list("month", flat=True))
    assert len(paid) == len(set(paid)) == 6
