"""export_payment_roster: who is paid, who is suspended, back-pay lines, overpayments — totals by the rules."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from certification import rules
from certification.models import BackPay, BackPayLine, LedgerEntry, Overpayment, Pensioner

from .population import build_population

pytestmark = pytest.mark.django_db

MONTH = dt.date(2026, 12, 1)  # the roster run after TODAY (2026-11-20)


def run(tmp_path, month: str = "2026-12", *extra: str) -> tuple[dict, list[dict[str, str]], bytes]:
    out = StringIO()
    path = tmp_path / "roster.csv"
    call_command("export_payment_roster", "--month", month, "--output", str(path), *extra, stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    raw = path.read_bytes()
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    return result, rows, raw


@pytest.fixture
def population():  # type: ignore[no-untyped-def]
    return build_population(n=90)


def _alive_on(p: Pensioner, first: dt.date) -> bool:
    return p.death_date is None or p.death_date >= first


def _amount(rows: list[dict[str, str]], code: str) -> Decimal:
    return sum((Decimal(r["金额（元）"]) for r in rows if r["类别代码"] == code), Decimal(0))


def test_paid_and_suspended_follow_the_status_rule_on_the_first(population, tmp_path):
    result, rows, _ = run(tmp_path)
    people = list(Pensioner.objects.all())
    paid = [p for p in people if _alive_on(p, MONTH) and rules.paid_on_first(p.valid_until, MONTH)]
    held = [p for p in people if _alive_on(p, MONTH) and not rules.paid_on_first(p.valid_until, MONTH)]
    assert result["closed_now"] is True
    assert result["paid"] == len(paid) > 0
    assert Decimal(result["paid_amount"]) == sum(p.monthly_amount for p in paid)
    assert result["suspended"] == len(held) > 0
    assert _amount(rows, "suspended") == sum(p.monthly_amount for p in held)
    assert {r["身份证号"] for r in rows if r["类别代码"] == "pay"} == {p.id_number for p in paid}


def test_the_first_close_pays_every_back_pay_line_waiting_each_under_its_own_month(population, tmp_path):
    waiting = list(BackPayLine.objects.filter(paid_in__isnull=True).select_related("pensioner"))
    expected = [(ln.pensioner.id_number, ln.month.strftime("%Y-%m"), ln.amount) for ln in waiting
                if _alive_on(ln.pensioner, ln.month)]
    assert expected, "the population should have back-pay waiting for a roster"
    result, rows, _ = run(tmp_path)
    got = [(r["身份证号"], r["所属月份"], Decimal(r["金额（元）"])) for r in rows if r["类别代码"] == "back_pay"]
    assert sorted(got) == sorted(expected)
    assert result["back_pay_lines"] == len(expected)
    assert Decimal(result["back_pay_amount"]) == sum(a for _, _, a in expected)
    # Each line now says which roster paid it, and a statement paid in full has its date.
    assert BackPayLine.objects.filter(paid_in=MONTH).count() == len(expected)
    for bp in BackPay.objects.filter(lines__paid_in=MONTH).distinct():
        assert bp.paid_on is not None or bp.lines.filter(paid_in__isnull=True).exists()


def test_open_overpayments_are_listed_with_the_rule_total(population, tmp_path):
    open_cases = [o for o in Overpayment.objects.select_related("pensioner") if o.state == "open"]
    assert open_cases
    expected = sum(
        len(rules.overpaid_months(o.death_date, o.opened_on)) * o.pensioner.monthly_amount for o in open_cases
    )
    result, rows, _ = run(tmp_path)
    assert result["overpayments"] == len(open_cases)
    assert _amount(rows, "overpayment") == expected


def test_csv_opens_in_excel_with_chinese_headers(population, tmp_path):
    result, rows, raw = run(tmp_path, "2026-12", "--excel")
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel then reads the Chinese correctly
    assert raw[3:].decode("utf-8").startswith("类别代码,类别,身份证号,姓名")
    assert rows[0]["身份证号"].startswith('="')
    assert len(rows) == result["paid"] + result["suspended"] + result["back_pay_lines"] + result["overpayments"]


def test_csv_amounts_add_up_to_the_json_totals(population, tmp_path):
    result, rows, _ = run(tmp_path)
    assert set(result) == {"month", "closed_now", "paid", "paid_amount", "back_pay_lines", "back_pay_amount",
                           "suspended", "overpayments", "path"}
    assert _amount(rows, "pay") == Decimal(result["paid_amount"])
    assert _amount(rows, "back_pay") == Decimal(result["back_pay_amount"])


def test_a_second_export_of_a_closed_month_writes_the_same_file_and_pays_nothing_new(population, tmp_path):
    first, rows_1, raw_1 = run(tmp_path)
    ledger_rows = LedgerEntry.objects.count()
    # Someone's validity moves after the month closed: the closed month does not change.
    p = Pensioner.objects.filter(status="suspended").first()
    assert p is not None
    Pensioner.objects.filter(pk=p.pk).update(valid_until=dt.date(2027, 12, 31), status="active")
    again, rows_2, raw_2 = run(tmp_path)
    assert (first["closed_now"], again["closed_now"]) == (True, False)
    assert raw_2 == raw_1
    assert {k: v for k, v in again.items() if k != "closed_now"} == {k: v for k, v in first.items() if k != "closed_now"}
    assert LedgerEntry.objects.count() == ledger_rows


def test_a_bad_month_fails_with_a_json_error(tmp_path):
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("export_payment_roster", "--month", "2026-13", "--output", str(tmp_path / "x.csv"), stdout=out)
    assert "error" in json.loads(out.getvalue().strip().splitlines()[-1])
