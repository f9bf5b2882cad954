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
from certification.models import BackPay, Overpayment, Pensioner

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


def test_paid_and_suspended_follow_the_status_rule_on_the_first(population, tmp_path):
    result, rows, _ = run(tmp_path)
    people = list(Pensioner.objects.all())
    paid = [p for p in people if _alive_on(p, MONTH) and rules.is_paid_for_month(rules.status(p.valid_until, MONTH))]
    held = [p for p in people if _alive_on(p, MONTH) and not rules.is_paid_for_month(rules.status(p.valid_until, MONTH))]
    assert result["paid"] == len(paid) > 0
    assert Decimal(result["paid_total"]) == sum(p.monthly_amount for p in paid)
    assert result["suspended"] == len(held) > 0
    assert Decimal(result["suspended_total"]) == sum(p.monthly_amount for p in held)
    assert {r["身份证号"] for r in rows if r["类别代码"] == "pay"} == {p.id_number for p in paid}


def test_back_pay_lines_are_itemised_by_month_for_last_months_restorations(population, tmp_path):
    restored_in_nov = [b for b in BackPay.objects.select_related("pensioner")
                       if dt.date(2026, 11, 1) <= b.restored_on < MONTH]
    assert restored_in_nov, "the population should restore someone in November"
    expected = [(b.pensioner.id_number, m.strftime("%Y-%m"), a) for b in restored_in_nov
                for m, a in rules.back_pay(rules.missed_months(b.suspended_since, b.restored_on), b.pensioner.monthly_amount)]
    result, rows, _ = run(tmp_path)
    got = [(r["身份证号"], r["所属月份"], Decimal(r["金额（元）"])) for r in rows if r["类别代码"] == "back_pay"]
    assert sorted(got) == sorted(expected)
    assert result["back_pay_lines"] == len(expected)
    assert Decimal(result["back_pay_total"]) == sum(a for _, _, a in expected)


def test_open_overpayments_are_listed_with_the_rule_total(population, tmp_path):
    open_cases = [o for o in Overpayment.objects.select_related("pensioner") if o.state == "open"]
    assert open_cases
    expected = sum(
        len(rules.overpaid_months(o.death_date, o.opened_on)) * o.pensioner.monthly_amount for o in open_cases
    )
    result, rows, _ = run(tmp_path)
    assert result["overpayments"] == len(open_cases)
    assert Decimal(result["overpayment_total"]) == expected


def test_csv_opens_in_excel_with_chinese_headers(population, tmp_path):
    result, rows, raw = run(tmp_path, "2026-12", "--excel")
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel then reads the Chinese correctly
    assert raw[3:].decode("utf-8").startswith("类别代码,类别,身份证号,姓名")
    assert rows[0]["身份证号"].startswith('="')
    assert len(rows) == result["paid"] + result["suspended"] + result["back_pay_lines"] + result["overpayments"]


def test_csv_amounts_add_up_to_the_json_totals(population, tmp_path):
    result, rows, _ = run(tmp_path)
    for code, key in [("pay", "paid_total"), ("suspended", "suspended_total"), ("back_pay", "back_pay_total"),
                      ("overpayment", "overpayment_total")]:
        assert sum(Decimal(r["金额（元）"]) for r in rows if r["类别代码"] == code) == Decimal(result[key])


def test_a_bad_month_fails_with_a_json_error(tmp_path):
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("export_payment_roster", "--month", "2026-13", "--output", str(tmp_path / "x.csv"), stdout=out)
    assert "error" in json.loads(out.getvalue().strip().splitlines()[-1])
