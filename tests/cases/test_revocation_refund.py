"""A revoked death pays back what was already recovered, once (issue 10, DESIGN §1, §2, §4).

The overpayment of a wrong death may have been recovered (finance took the month paid
after the death back) before the death is revoked. On confirmation the writer cancels the
case and sets the recovered amount as its refund; the next roster that closes pays it as a
`refund` line (counted among its back-pay lines in the JSON), and neither a replay of that
roster nor a later roster pays it again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse

from certification import rules
from certification.cases import services
from certification.effects import Effect, effects_apply
from certification.ledger import ledger_for, roster_close
from certification.models import BackPayLine, LedgerEntry, Overpayment
from certification.selectors import pensioner_summary
from certification.services import pensioner_mark_deceased
from notifications.models import Message
from tests.factories import PensionerFactory, UserFactory

from .conftest import THURSDAY, pensioner_user

DEATH = dt.date(2026, 8, 15)
RECORDED = dt.date(2026, 9, 10)
SEP, OCT, NOV, DEC, JAN = (dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1),
                           dt.date(2027, 1, 1))


def _export(tmp_path, month: str, name: str) -> tuple[dict, bytes, list[dict[str, str]]]:  # type: ignore[type-arg]
    path = tmp_path / name
    out = io.StringIO()
    call_command("export_payment_roster", "--month", month, "--output", str(path), stdout=out)
    data = path.read_bytes()
    rows = list(csv.DictReader(data.decode("utf-8-sig").splitlines()))
    return json.loads(out.getvalue().strip().splitlines()[-1]), data, rows


def _mine(rows, p) -> list[tuple[str, str, str]]:
    return sorted((r["类别代码"], r["所属月份"], r["金额（元）"]) for r in rows if r["身份证号"] == p.id_number)


def _recovered_then_revoked(w):
    """Paid for September by its roster, died (wrongly) in August, recorded 10 September; September
    recovered by finance; October and November closed while deceased; revoked on 3 December."""
    p = PensionerFactory(street_office=w["a"], status="active", valid_until=dt.date(2027, 6, 1))
    roster_close(month=SEP, today=SEP)
    pensioner_mark_deceased(pensioner=p, death_date=DEATH, today=RECORDED, source="death_civil")
    case = Overpayment.objects.get(pensioner=p)
    assert (case.state, case.total, case.months) == ("open", p.monthly_amount, ["2026-09-01"])
    roster_close(month=OCT, today=OCT)
    Overpayment.objects.filter(pk=case.pk).update(state=Overpayment.State.RECOVERED)  # finance took September back
    roster_close(month=NOV, today=NOV)
    rev = services.revocation_record(pensioner=p, staff=w["staff"], reason="身份证号录入错误")
    expected = rules.back_pay_months(new_valid_until=dt.date(2027, 6, 1), today=THURSDAY, ledger=ledger_for(p.pk),
                                     unpaid_since=OCT, enrolled_on=p.enrolled_on)
    rev = services.revocation_confirm(revocation=rev, user=w["staff2"], today=THURSDAY)
    return p, rev, expected


def test_the_recovered_amount_is_refunded_once_in_the_next_roster_and_never_again(w, tmp_path):
    p, rev, expected = _recovered_then_revoked(w)
    amount = p.monthly_amount
    p.refresh_from_db()
    assert (p.status, p.death_date) == ("active", None)
    # Back-pay: the closed months not paid since the death, by the rules (December is its own roster's).
    months = sorted(BackPayLine.objects.filter(pensioner_id=p.pk).values_list("month", flat=True))
    assert months == expected == [OCT, NOV]
    # The overpayment is 0 after cancellation, and the refund is what was recovered.
    case = Overpayment.objects.get(pensioner=p)
    assert (case.state, case.refund, case.refunded_in) == ("cancelled", amount, None)
    assert pensioner_summary(p)["overpayment_total"] == "0.00"
    assert rev.result["recovered_refund"] == f"{amount:.2f}" and rev.result["back_pay_total"] == f"{2 * amount:.2f}"
    assert "recovered_outstanding" not in rev.result
    assert f"{3 * amount:.2f}" in Message.objects.filter(pensioner_id=p.pk, template="death_revoked").get().text

    dec, dec_bytes, dec_rows = _export(tmp_path, "2026-12", "dec.csv")
    assert dec["closed_now"] is True
    assert _mine(dec_rows, p) == sorted([
        ("pay", "2026-12", f"{amount:.2f}"), ("back_pay", "2026-10", f"{amount:.2f}"),
        ("back_pay", "2026-11", f"{amount:.2f}"), ("refund", "2026-12", f"{amount:.2f}"),
    ])
    # The JSON keeps DESIGN §4's keys; the refund is one of the month's back-pay lines.
    assert set(dec) == {"month", "closed_now", "paid", "paid_amount", "back_pay_lines", "back_pay_amount",
                        "suspended", "overpayments", "path"}
    assert (dec["back_pay_lines"], dec["back_pay_amount"]) == (3, f"{3 * amount:.2f}")
    case.refresh_from_db()
    assert case.refunded_in == DEC

    # A replay of December is the same file and pays nothing new.
    again, again_bytes, _rows = _export(tmp_path, "2026-12", "dec-again.csv")
    assert again["closed_now"] is False and again_bytes == dec_bytes
    assert {k: v for k, v in again.items() if k not in ("closed_now", "path")} == {
        k: v for k, v in dec.items() if k not in ("closed_now", "path")}
    # Nor does the next month's roster.
    jan, _b, jan_rows = _export(tmp_path, "2027-01", "jan.csv")
    assert _mine(jan_rows, p) == [("pay", "2027-01", f"{amount:.2f}")]
    assert jan["back_pay_lines"] == 0
    assert LedgerEntry.objects.filter(pensioner=p, kind="refund").count() == 1

    # The money as a whole: September to January paid once each, September's recovery paid back.
    paid = LedgerEntry.objects.filter(pensioner=p, kind__in=LedgerEntry.PAID_KINDS)
    assert sorted(paid.values_list("month", flat=True)) == [SEP, OCT, NOV, DEC, JAN]
    net = paid.aggregate(t=Sum("amount"))["t"] - case.total + LedgerEntry.objects.get(pensioner=p, kind="refund").amount
    assert net == 5 * amount


def test_a_second_refund_row_for_a_case_is_refused_by_the_database(w):
    """Refund rows are once per overpayment case (a person wrongly dead twice has two: test_revocation_refund_twice)."""
    p, _rev, _expected = _recovered_then_revoked(w)
    roster_close(month=DEC, today=THURSDAY)
    case = Overpayment.objects.get(pensioner=p)
    assert LedgerEntry.objects.get(pensioner=p, kind="refund").overpayment_id == case.pk
    for month in (JAN, DEC):
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.create(roster_month=month, pensioner=p, kind="refund", month=month,
                                       amount=Decimal("1.00"), overpayment=case)


def test_an_open_overpayment_is_cancelled_with_nothing_to_refund(w, tmp_path):
    p = PensionerFactory(street_office=w["a"], status="active", valid_until=dt.date(2027, 6, 1))
    roster_close(month=SEP, today=SEP)
    pensioner_mark_deceased(pensioner=p, death_date=DEATH, today=RECORDED, source="death_civil")
    rev = services.revocation_record(pensioner=p, staff=w["staff"], reason="同名同姓混淆")
    rev = services.revocation_confirm(revocation=rev, user=w["staff2"], today=THURSDAY)
    case = Overpayment.objects.get(pensioner=p)
    assert (case.state, case.refund) == ("cancelled", Decimal("0.00"))
    assert rev.result["recovered_refund"] == "0.00" and rev.result["overpayment_cancelled"] == f"{p.monthly_amount:.2f}"
    dec, _b, rows = _export(tmp_path, "2026-12", "dec.csv")
    assert not [r for r in _mine(rows, p) if r[0] in ("refund", "overpayment")]


def test_the_writer_refunds_only_for_a_revived_death(w):
    """Through effects_apply itself: a recovered case is refunded on a revival, not on a validity move."""
    dead = PensionerFactory(street_office=w["a"], status="active", valid_until=dt.date(2027, 6, 1))
    pensioner_mark_deceased(pensioner=dead, death_date=DEATH, today=RECORDED, source="death_civil")
    Overpayment.objects.filter(pensioner=dead).update(state=Overpayment.State.RECOVERED)
    # A certification for a dead person moves nothing (the dead keep their validity).
    counts = effects_apply(today=THURSDAY, rows=[Effect(pensioner_id=dead.pk, reason="certified:counter",
                                                        valid_until=dt.date(2027, 12, 1))])
    assert counts.refunds == 0 and Overpayment.objects.get(pensioner=dead).state == "recovered"
    counts = effects_apply(today=THURSDAY, rows=[Effect(pensioner_id=dead.pk, reason="revocation:test",
                                                        valid_until=dt.date(2027, 6, 1), exact=True, revive=True,
                                                        unpaid_since=OCT)])
    case = Overpayment.objects.get(pensioner=dead)
    assert counts.refunds == 1 and (case.state, case.refund) == ("cancelled", case.total)
    # A second revival (a replayed call) finds nothing more to refund.
    again = effects_apply(today=THURSDAY, rows=[Effect(pensioner_id=dead.pk, reason="revocation:test",
                                                       valid_until=dt.date(2027, 6, 1), exact=True, revive=True,
                                                       unpaid_since=OCT)])
    assert again.refunds == 0


def test_the_pensioner_sees_the_refund_coming_and_then_paid(w, client):
    p, _rev, _expected = _recovered_then_revoked(w)
    client.force_login(pensioner_user(p))
    page = client.get(reverse("certification:pensioner_home")).content.decode()
    assert f"<strong>{p.monthly_amount:.2f} 元</strong> 将随下一次发放退还给您" in page
    roster_close(month=DEC, today=THURSDAY)
    page = client.get(reverse("certification:pensioner_home")).content.decode()
    assert f"<strong>{p.monthly_amount:.2f} 元</strong> 已随 2026年12月 的养老金退还给您" in page


def test_the_admin_lists_the_refund_and_its_roster_month(w, client):
    p, _rev, _expected = _recovered_then_revoked(w)
    roster_close(month=DEC, today=THURSDAY)
    client.force_login(UserFactory(role="admin", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:certification_overpayment_changelist")).content.decode()
    cells = re.findall(r'<td class="field-(refunded_in|refund)[ "][^>]*>([^<]*)</td>', page)
    assert cells == [("refund", f"{p.monthly_amount:.2f}"), ("refunded_in", "2026年12月1日")], cells
