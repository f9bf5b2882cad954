"""Death records to verify (hukou_cancel) and in conflict, decided by staff (DESIGN §1).

Confirmed: deceased from the recorded date, the overpayment from the rules/ledger.
Rejected: nothing changes, the reason is kept. Through the services, the page and the API.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from bigdata.models import DeathRecord
from certification import rules
from certification.cases import services
from certification.models import AuditLog, Overpayment
from tests.factories import PensionerFactory

from .conftest import DUE, THURSDAY


def _record(p, *, kind="verify", source="hukou_cancel", death=dt.date(2026, 9, 20), seen=None):
    return DeathRecord.objects.create(pensioner=p, source=source, source_ref=f"{source}-{p.pk}", death_date=death,
                                      kind=kind, state=kind, seen_alive_on=seen, opened_on=THURSDAY, due_on=DUE)


def _active(w):
    return PensionerFactory(street_office=w["a"], status="active", valid_until=dt.date(2027, 6, 1))


def test_a_confirmed_hukou_cancellation_makes_the_person_deceased_from_the_recorded_date(client, w):
    p = _active(w)
    r = _record(p)
    client.force_login(w["staff"])
    page = client.get(reverse("cases:death_record", args=[r.pk])).content.decode()
    assert "死亡记录待核实" in page and "照常发放" in page
    resp = client.post(reverse("cases:death_record", args=[r.pk]), {"decision": "confirm", "note": "民政核实"})
    assert resp.status_code == 302
    p.refresh_from_db()
    r.refresh_from_db()
    assert (p.status, p.death_date, r.state, r.decided_by) == ("deceased", dt.date(2026, 9, 20), "confirmed",
                                                               w["staff"])
    # Paid for October, November and December (the 1sts after a September death, up to this month).
    months = rules.overpaid_months(dt.date(2026, 9, 20), THURSDAY, None)
    assert [m.month for m in months] == [10, 11, 12]
    assert Overpayment.objects.get(pensioner=p).total == p.monthly_amount * 3
    assert AuditLog.objects.filter(action="death_record_confirm", pensioner=p, actor=w["staff"]).exists()


def test_a_rejected_hukou_cancellation_changes_nothing_and_keeps_the_reason(w):
    p = _active(w)
    r = _record(p)
    api = APIClient()
    api.force_authenticate(w["staff2"])
    empty = api.post(f"/api/v1/staff/death-records/{r.pk}/reject/", {"note": ""}, format="json")
    assert empty.status_code == 400
    resp = api.post(f"/api/v1/staff/death-records/{r.pk}/reject/", {"note": "本人到窗口，户籍注销系误录"},
                    format="json")
    assert resp.status_code == 200 and resp.json()["state"] == "rejected"
    p.refresh_from_db()
    r.refresh_from_db()
    assert (p.status, p.death_date, p.valid_until) == ("active", None, dt.date(2027, 6, 1))
    assert r.decision_note == "本人到窗口，户籍注销系误录"
    assert not Overpayment.objects.filter(pensioner=p).exists()
    # Decided once: a second decision is refused.
    assert api.post(f"/api/v1/staff/death-records/{r.pk}/confirm/", format="json").status_code == 400


def test_a_conflict_confirmed_through_the_api_stops_payment(w):
    p = _active(w)
    r = _record(p, kind="conflict", source="death_civil", seen=dt.date(2026, 10, 5))
    api = APIClient()
    api.force_authenticate(w["admin"])
    resp = api.post(f"/api/v1/staff/death-records/{r.pk}/confirm/", {"note": "窗口认证为冒名，已报警"},
                    format="json")
    assert resp.status_code == 200 and resp.json()["state"] == "confirmed"
    p.refresh_from_db()
    assert (p.status, p.death_date) == ("deceased", dt.date(2026, 9, 20))


def test_a_conflict_rejected_on_the_page_keeps_the_person_paid(client, w):
    p = _active(w)
    r = _record(p, kind="conflict", source="death_civil", seen=dt.date(2026, 10, 5))
    client.force_login(w["staff"])
    page = client.get(reverse("cases:death_record", args=[r.pk])).content.decode()
    assert "与当面认证冲突" in page and "2026-10-05" in page
    client.post(reverse("cases:death_record", args=[r.pk]), {"decision": "reject", "note": "10月5日本人到窗口"})
    p.refresh_from_db()
    r.refresh_from_db()
    assert (p.status, p.death_date, r.state) == ("active", None, "rejected")


def test_the_service_refuses_a_reject_without_reason(w):
    r = _record(_active(w))
    try:
        services.death_record_reject(record=r, staff=w["staff"], reason="  ")
    except services.CaseError:
        pass
    else:
        raise AssertionError("rejected without a reason")
    r.refresh_from_db()
    assert r.state == "verify"


@pytest.mark.parametrize("kind,source,seen", [("verify", "hukou_cancel", None),
                                              ("conflict", "death_civil", dt.date(2026, 10, 5))])
@pytest.mark.parametrize("decision", ["confirm", "reject"])
@pytest.mark.parametrize("via", ["page", "api"])
def test_each_kind_is_decided_both_ways_on_the_page_and_the_api(client, w, kind, source, seen, decision, via):
    p = _active(w)
    r = _record(p, kind=kind, source=source, seen=seen)
    note = "民政核实属实" if decision == "confirm" else "本人到窗口，记录系误录"
    if via == "page":
        client.force_login(w["staff"])
        resp = client.post(reverse("cases:death_record", args=[r.pk]), {"decision": decision, "note": note})
        assert resp.status_code == 302
    else:
        api = APIClient()
        api.force_authenticate(w["staff"])
        resp = api.post(f"/api/v1/staff/death-records/{r.pk}/{decision}/", {"note": note}, format="json")
        assert resp.status_code == 200 and resp.json()["state"] == ("confirmed" if decision == "confirm" else "rejected")
    p.refresh_from_db()
    r.refresh_from_db()
    if decision == "confirm":
        assert (p.status, p.death_date, r.state) == ("deceased", dt.date(2026, 9, 20), "confirmed")
        assert Overpayment.objects.get(pensioner=p).total == p.monthly_amount * 3  # Oct–Dec paid after a Sep death
    else:
        assert (p.status, p.death_date, r.state, r.decision_note) == ("active", None, "rejected", note)
        assert not Overpayment.objects.filter(pensioner=p).exists()
    assert AuditLog.objects.filter(action=f"death_record_{decision}", pensioner=p, actor=w["staff"]).exists()
