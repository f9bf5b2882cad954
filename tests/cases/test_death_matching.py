"""The nightly matching and the death trust levels (DESIGN §1).

hukou_cancel opens a death_verify case and the person stays paid; a trusted record for
a person seen alive in person after the date opens a death_conflict case; a trusted
record acts at once otherwise, and a verify case waiting for that person is closed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bigdata.matching import matching_run
from bigdata.models import DeathRecord, EvidenceSource
from bigdata.services import evidence_import, source_get
from certification.cases import services
from certification.cases.selectors import cases_for
from certification.models import Certification, Overpayment
from tests.bigdata.conftest import make_id
from tests.factories import PensionerFactory

pytestmark = pytest.mark.django_db

RUN = dt.date(2026, 12, 3)


def _import(feed, code, rows):  # type: ignore[no-untyped-def]
    return evidence_import(path=feed(rows), source=source_get(code), today=RUN)


def _person(n: int, **kw):
    return PensionerFactory(id_number=make_id(900 + n), valid_until=dt.date(2027, 6, 1),
                            monthly_amount=Decimal("3000.00"), **kw)


def test_a_household_cancellation_opens_a_verify_case_and_the_person_stays_paid(feed, w):
    p = _person(1, street_office=w["a"])
    _import(feed, "hukou_cancel", [(p.id_number, "2026-09-20", "HK-1")])
    out = matching_run(today=RUN)
    p.refresh_from_db()
    assert out["deceased"] == 0
    assert (p.status, p.death_date) == ("active", None)
    r = DeathRecord.objects.get(pensioner=p)
    assert (r.source, r.source_ref, r.kind, r.state, r.death_date, r.opened_on) == (
        "hukou_cancel", "HK-1", "verify", "verify", dt.date(2026, 9, 20), RUN)
    assert [c["case_kind"] for c in cases_for(w["staff"])] == ["death_verify"]
    # A second night changes nothing and opens nothing twice.
    matching_run(today=RUN + dt.timedelta(days=1))
    assert DeathRecord.objects.filter(pensioner=p).count() == 1
    services.death_record_confirm(record=r, staff=w["staff"], today=RUN + dt.timedelta(days=1))
    p.refresh_from_db()
    assert (p.status, p.death_date) == ("deceased", dt.date(2026, 9, 20))
    assert Overpayment.objects.get(pensioner=p).total == Decimal("9000.00")  # Oct, Nov, Dec


def test_the_source_registry_setting_makes_hukou_cancel_act_at_once(feed, w):
    EvidenceSource.objects.filter(code="hukou_cancel").update(death_action="immediate")
    p = _person(2, street_office=w["a"])
    _import(feed, "hukou_cancel", [(p.id_number, "2026-09-20", "HK-2")])
    assert matching_run(today=RUN)["deceased"] == 1
    p.refresh_from_db()
    assert p.death_date == dt.date(2026, 9, 20)


def test_a_civil_record_arriving_meanwhile_acts_at_once_with_its_own_date(feed, w):
    p = _person(3, street_office=w["a"])
    _import(feed, "hukou_cancel", [(p.id_number, "2026-09-18", "HK-3")])
    matching_run(today=RUN)
    _import(feed, "death_civil", [(p.id_number, "2026-09-25", "MZ-3")])
    assert matching_run(today=RUN + dt.timedelta(days=1))["deceased"] == 1
    p.refresh_from_db()
    assert (p.status, p.death_date) == ("deceased", dt.date(2026, 9, 25))
    states = dict(DeathRecord.objects.filter(pensioner=p).values_list("source", "state"))
    assert states == {"hukou_cancel": "confirmed", "death_civil": "confirmed"}
    assert not list(cases_for(w["staff"], kind="death_verify"))


def test_a_death_record_for_someone_certified_at_the_counter_later_is_a_conflict(feed, w):
    p = _person(4, street_office=w["a"])
    Certification.objects.create(pensioner=p, method="counter", occurred_on=dt.date(2026, 10, 8), source="staff")
    _import(feed, "death_civil", [(p.id_number, "2026-09-20", "MZ-4")])
    out = matching_run(today=RUN)
    p.refresh_from_db()
    assert out["deceased"] == 0 and (p.status, p.death_date) == ("active", None)
    r = DeathRecord.objects.get(pensioner=p)
    assert (r.kind, r.state, r.seen_alive_on) == ("conflict", "conflict", dt.date(2026, 10, 8))
    # Rejected by staff: a later night does not apply the same record again.
    services.death_record_reject(record=r, staff=w["staff"], reason="10月8日本人到窗口")
    matching_run(today=RUN + dt.timedelta(days=1))
    p.refresh_from_db()
    assert p.status == "active"


def test_a_counter_visit_record_after_the_death_date_is_a_visit_in_person(feed, w):
    p = _person(5, street_office=w["a"])
    _import(feed, "counter_visit", [(p.id_number, "2026-10-12", "CV-5")])
    _import(feed, "cremation", [(p.id_number, "2026-09-30", "HH-5")])
    matching_run(today=RUN)
    p.refresh_from_db()
    assert p.status == "active"
    assert DeathRecord.objects.get(pensioner=p).seen_alive_on == dt.date(2026, 10, 12)


def test_a_death_record_with_no_later_in_person_check_acts_and_is_recorded_confirmed(feed, w):
    p = _person(6, street_office=w["a"])
    Certification.objects.create(pensioner=p, method="counter", occurred_on=dt.date(2026, 9, 1), source="staff")
    _import(feed, "death_civil", [(p.id_number, "2026-09-20", "MZ-6")])
    assert matching_run(today=RUN)["deceased"] == 1
    r = DeathRecord.objects.get(pensioner=p)
    assert (r.kind, r.state) == ("immediate", "confirmed")
    # The revocation marks it revoked.
    rev = services.revocation_record(pensioner=p, staff=w["staff"], reason="民政误录")
    services.revocation_confirm(revocation=rev, user=w["staff2"], today=RUN)
    r.refresh_from_db()
    assert r.state == "revoked"
