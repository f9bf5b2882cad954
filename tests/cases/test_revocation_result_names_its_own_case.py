"""The second wrong death of one person: the answers name that death's case, not the first one's.

Both revocations come before any roster closes, so the first refund is still waiting when
the second is confirmed. The second revocation's result (and its SMS) must give only the
second recovered amount; pensioner_mark_deceased must return the second case.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from certification.models import Overpayment
from certification.services import pensioner_mark_deceased
from notifications.models import Message
from tests.cases.test_revocation_refund_twice import _export, _on, _recover, _revoke
from tests.factories import PensionerFactory

AMOUNT = Decimal("2345.67")
SEP = dt.date(2026, 9, 1)


def test_second_revocation_reports_only_its_own_refund(w, clock, tmp_path):
    p = PensionerFactory(street_office=w["a"], status="active", valid_until=dt.date(2027, 12, 1), monthly_amount=AMOUNT,
                         enrolled_on=dt.date(2020, 1, 1))
    _export(clock, tmp_path, SEP)
    first = pensioner_mark_deceased(pensioner=p, death_date=dt.date(2026, 8, 15), today=_on(clock, dt.date(2026, 9, 10)),
                                    source="death_civil")
    assert first is not None and first.total == AMOUNT
    _recover(first)
    _revoke(clock, w, p, on=dt.date(2026, 9, 18))
    second = pensioner_mark_deceased(pensioner=p, death_date=dt.date(2026, 7, 20),
                                     today=_on(clock, dt.date(2026, 9, 22)), source="cremation")
    assert second is not None and second.pk != first.pk and second.total == 2 * AMOUNT
    _recover(second)
    _revoke(clock, w, p, on=dt.date(2026, 9, 28))

    results = [r.result for r in p.revocations.order_by("id")]
    assert [r["recovered_refund"] for r in results] == [f"{AMOUNT:.2f}", f"{2 * AMOUNT:.2f}"]
    assert list(Overpayment.objects.filter(pensioner=p).order_by("id").values_list("refund", flat=True)) == [
        AMOUNT, 2 * AMOUNT]
    sms = [m.text for m in Message.objects.filter(pensioner=p, template="death_revoked").order_by("id")]
    assert len(sms) == 2
    coming = [Decimal(results[i]["back_pay_total"]) + Decimal(results[i]["recovered_refund"]) for i in (0, 1)]
    assert f"{coming[1]:.2f}" in sms[1] and f"{coming[0] + coming[1]:.2f}" not in sms[1]
