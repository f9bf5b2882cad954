"""Revoking a wrong death with two people (DESIGN §1, §4).

The recorder cannot confirm (403, page and API); a second staff member of the office, or
an administrator, carries it out. Money is checked against the rules and the ledger: the
back-pay equals the months not paid since the death, and the overpayment is 0 afterwards.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Sum
from django.urls import reverse
from rest_framework.test import APIClient

from bigdata.models import FraudAlert
from certification import rules
from certification.cases import services
from certification.cases.models import Revocation
from certification.ledger import ledger_for, roster_close
from certification.models import AuditLog, BackPayLine, Certification, Overpayment
from certification.services import pensioner_mark_deceased
from notifications.models import Message
from tests.factories import PensionerFactory

from .conftest import THURSDAY

DEATH = dt.date(2026, 8, 15)
RECORDED = dt.date(2026, 9, 10)


def _wrongly_dead(w, **kw):
    p = PensionerFactory(street_office=w["a"], status="active", valid_until=dt.date(2027, 6, 1), **kw)
    pensioner_mark_deceased(pensioner=p, death_date=DEATH, today=RECORDED, source="death_civil")
    p.refresh_from_db()
    assert p.status == "deceased"
    return p


def _open_overpayment(p) -> Decimal:
    return Overpayment.objects.filter(pensioner=p, state="open").aggregate(t=Sum("total"))["t"] or Decimal("0")


def test_the_recorder_gets_403_and_a_second_staff_member_carries_it_out_over_the_api(w):
    p = _wrongly_dead(w)
    assert _open_overpayment(p) == p.monthly_amount  # September was paid after an August death
    FraudAlert.objects.create(pensioner=p, source="transit", source_ref="T-1", event_date=dt.date(2026, 10, 10),
                              death_date=DEATH)
    first, second = APIClient(), APIClient()
    first.force_authenticate(w["staff"])
    second.force_authenticate(w["staff2"])
    r = first.post(f"/api/v1/staff/pensioners/{p.public_key}/death-revocations/", {"reason": "身份证号录入错误"},
                   format="json")
    assert r.status_code == 201 and r.json()["state"] == "pending"
    rid = r.json()["id"]
    p.refresh_from_db()
    assert p.status == "deceased"  # nothing changes until a second person confirms
    assert first.post(f"/api/v1/staff/death-revocations/{rid}/confirm/", format="json").status_code == 403
    assert Revocation.objects.get(pk=rid).state == "pending"
    # What the rules say, from the ledger as it stands before the revocation.
    expected = rules.back_pay_months(new_valid_until=dt.date(2027, 6, 1), today=THURSDAY, ledger=ledger_for(p.pk),
                                     unpaid_since=dt.date(2026, 10, 1), enrolled_on=p.enrolled_on)
    ok = second.post(f"/api/v1/staff/death-revocations/{rid}/confirm/", format="json")
    assert ok.status_code == 200 and ok.json()["state"] == "confirmed"
    p.refresh_from_db()
    assert (p.status, p.death_date) == ("active", None)
    # The months not paid since the death: the rule paid September (the month of the run),
    # October to December were withheld; the restored validity covers all three 1sts.
    lines = list(BackPayLine.objects.filter(pensioner_id=p.pk).order_by("month").values_list("month", "amount"))
    assert [m for m, _a in lines] == expected == [dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)]
    assert sum(a for _m, a in lines) == 3 * p.monthly_amount
    assert _open_overpayment(p) == 0
    alert = FraudAlert.objects.get(pensioner=p)
    assert alert.state == "closed" and "身份证号录入错误" in alert.closed_reason
    assert "9000.00" in Message.objects.filter(pensioner_id=p.pk).latest("id").text
    actions = set(AuditLog.objects.filter(pensioner=p).values_list("action", flat=True))
    assert {"revocation_record", "revocation_confirm", "death_revoke"} <= actions


def test_an_administrator_may_confirm_and_another_office_may_not(w):
    p = _wrongly_dead(w)
    rev = services.revocation_record(pensioner=p, staff=w["staff"], reason="亲属信息混淆")
    outsider = APIClient()
    outsider.force_authenticate(w["staff_b"])
    assert outsider.post(f"/api/v1/staff/death-revocations/{rev.pk}/confirm/", format="json").status_code == 404
    admin = APIClient()
    admin.force_authenticate(w["admin"])
    assert admin.post(f"/api/v1/staff/death-revocations/{rev.pk}/confirm/", format="json").status_code == 200
    p.refresh_from_db()
    assert p.status == "active"


def test_on_the_page_the_recorder_is_refused_with_403_and_the_second_person_confirms(client, w):
    p = _wrongly_dead(w)
    client.force_login(w["staff"])
    detail = client.get(reverse("staff:pensioner", args=[p.public_key])).content.decode()
    assert 'data-testid="record-revocation"' in detail
    resp = client.post(reverse("cases:revocation_create", args=[p.public_key]), {"reason": "本人到窗口，系误报"})
    rev = Revocation.objects.get(pensioner=p)
    assert resp.status_code == 302
    assert 'data-testid="needs-second-person"' in client.get(reverse("cases:revocation", args=[rev.pk])).content.decode()
    assert client.post(reverse("cases:revocation", args=[rev.pk]), {"decision": "confirm"}).status_code == 403
    client.force_login(w["staff2"])
    resp = client.post(reverse("cases:revocation", args=[rev.pk]), {"decision": "confirm", "note": "已核实"})
    assert resp.status_code == 302
    rev.refresh_from_db()
    p.refresh_from_db()
    assert (rev.state, rev.confirmed_by, p.status) == ("confirmed", w["staff2"], "active")
    assert rev.result["back_pay_total"] == f"{3 * p.monthly_amount:.2f}"


def test_against_the_ledger_the_back_pay_is_the_closed_months_not_paid(w):
    """Rosters closed for Sep (paid), Oct and Nov (withheld: deceased); December is still open."""
    p = PensionerFactory(street_office=w["a"], status="active", valid_until=dt.date(2027, 6, 1))
    roster_close(month=dt.date(2026, 9, 1), today=dt.date(2026, 9, 1))
    # Recorded after September's roster paid him: the ledger's September is the overpayment.
    pensioner_mark_deceased(pensioner=p, death_date=DEATH, today=RECORDED, source="death_civil")
    assert _open_overpayment(p) == p.monthly_amount
    roster_close(month=dt.date(2026, 10, 1), today=dt.date(2026, 10, 1))
    roster_close(month=dt.date(2026, 11, 1), today=dt.date(2026, 11, 1))
    rev = services.revocation_record(pensioner=p, staff=w["staff"], reason="同名同姓混淆")
    expected = rules.back_pay_months(new_valid_until=dt.date(2027, 6, 1), today=THURSDAY, ledger=ledger_for(p.pk),
                                     unpaid_since=dt.date(2026, 10, 1), enrolled_on=p.enrolled_on)
    services.revocation_confirm(revocation=rev, user=w["staff2"], today=THURSDAY)
    months = sorted(BackPayLine.objects.filter(pensioner_id=p.pk).values_list("month", flat=True))
    # October and November were closed unpaid; December's own roster will pay it as active.
    assert months == expected == [dt.date(2026, 10, 1), dt.date(2026, 11, 1)]
    assert _open_overpayment(p) == 0


def test_voided_certifications_are_restored_and_validity_follows_them(w):
    p = PensionerFactory(street_office=w["a"], status="active", valid_until=dt.date(2026, 12, 31),
                         roster_valid_until=dt.date(2026, 12, 31))
    c = Certification.objects.create(pensioner=p, method="big_data", occurred_on=dt.date(2026, 9, 1),
                                     source="hospital", evidence_ref="H-7")
    pensioner_mark_deceased(pensioner=p, death_date=DEATH, today=RECORDED, source="death_civil")
    c.refresh_from_db()
    assert c.voided_at is not None
    rev = services.revocation_record(pensioner=p, staff=w["staff"], reason="误录")
    services.revocation_confirm(revocation=rev, user=w["staff2"], today=THURSDAY)
    c.refresh_from_db()
    p.refresh_from_db()
    assert c.voided_at is None
    assert p.valid_until == dt.date(2027, 9, 1) and p.status == "active"


def test_a_revocation_needs_a_reason_and_a_dead_person(w):
    alive = PensionerFactory(street_office=w["a"])
    for kwargs in ({"pensioner": alive, "reason": "x"}, {"pensioner": _wrongly_dead(w), "reason": " "}):
        try:
            services.revocation_record(staff=w["staff"], **kwargs)
        except services.CaseError:
            pass
        else:
            raise AssertionError(kwargs)
    assert not Revocation.objects.exists()


def test_the_second_person_may_refuse_and_the_death_stands(w):
    p = _wrongly_dead(w)
    rev = services.revocation_record(pensioner=p, staff=w["staff"], reason="家属称健在")
    services.revocation_refuse(revocation=rev, user=w["staff2"], note="火化记录属实")
    p.refresh_from_db()
    rev.refresh_from_db()
    assert (rev.state, rev.decision_note, p.status) == ("refused", "火化记录属实", "deceased")
