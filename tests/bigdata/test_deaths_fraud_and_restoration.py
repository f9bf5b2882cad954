"""Deaths → deceased + overpayment, post-death evidence → fraud alert, late evidence → restore + back-pay."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bigdata.matching import matching_run
from bigdata.models import EvidenceSource, FraudAlert
from bigdata.services import evidence_import, source_get
from certification.models import BackPay, Certification, Overpayment, StatusChange
from tests.factories import PensionerFactory

from .conftest import make_id

pytestmark = pytest.mark.django_db


def _import(feed, code: str, rows: list[tuple[str, ...]]):  # type: ignore[no-untyped-def]
    return evidence_import(path=feed(rows), source=source_get(code), today=dt.date(2026, 12, 31))


def test_death_record_marks_deceased_and_opens_overpayment_for_months_after_the_death_month(feed):
    p = PensionerFactory(id_number=make_id(20), valid_until=dt.date(2027, 6, 1), monthly_amount=Decimal("3000.00"))
    _import(feed, "death_civil", [(p.id_number, "2026-03-15", "MZ-1")])

    out = matching_run(today=dt.date(2026, 7, 1))

    assert out["deceased"] == 1
    p.refresh_from_db()
    assert (p.status, p.death_date) == ("deceased", dt.date(2026, 3, 15))
    op = Overpayment.objects.get(pensioner=p)
    assert op.months == ["2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01"]
    assert op.total == Decimal("12000.00")
    change = StatusChange.objects.get(pensioner=p)
    assert (change.old_status, change.new_status, change.reason) == ("active", "deceased", "death:death_civil")


def test_the_earliest_of_several_death_records_is_the_death_date(feed):
    p = PensionerFactory(id_number=make_id(21))
    _import(feed, "cremation", [(p.id_number, "2026-06-20", "HH-1")])
    # (death_civil, not hukou_cancel: that one opens a death_verify case, tests/cases/test_death_matching.py)
    _import(feed, "death_civil", [(p.id_number, "2026-06-18", "MZ-18")])
    matching_run(today=dt.date(2026, 6, 30))
    p.refresh_from_db()
    assert p.death_date == dt.date(2026, 6, 18)
    assert not Overpayment.objects.filter(pensioner=p).exists()  # died in June, run in June: nothing paid after


def test_death_of_a_suspended_person_does_not_claim_the_unpaid_months(feed):
    p = PensionerFactory(id_number=make_id(22), valid_until=dt.date(2025, 12, 31), status="suspended",
                         suspended_since=dt.date(2026, 4, 1))
    _import(feed, "death_civil", [(p.id_number, "2026-01-10", "MZ-2")])
    matching_run(today=dt.date(2026, 7, 1))
    op = Overpayment.objects.get(pensioner=p)
    assert op.months == ["2026-02-01", "2026-03-01"]


def test_qualifying_evidence_after_a_recorded_death_raises_a_fraud_alert(feed):
    p = PensionerFactory(id_number=make_id(23))
    _import(feed, "death_civil", [(p.id_number, "2026-03-15", "MZ-3")])
    _import(feed, "transit", [(p.id_number, "2026-03-10", "BUS-0"), (p.id_number, "2026-05-01", "BUS-1")])

    out = matching_run(today=dt.date(2026, 7, 1))

    assert (out["deceased"], out["fraud_alerts"], out["extended"]) == (1, 1, 0)
    alert = FraudAlert.objects.get(pensioner=p)
    assert (alert.source, alert.source_ref, alert.event_date, alert.death_date) == (
        "transit", "BUS-1", dt.date(2026, 5, 1), dt.date(2026, 3, 15))
    assert not Certification.objects.filter(pensioner=p).exists()

    # A later feed: another ride on the dead person's card, next night.
    _import(feed, "transit", [(p.id_number, "2026-07-01", "BUS-2")])
    out = matching_run(today=dt.date(2026, 7, 2))
    assert out["fraud_alerts"] == 1
    assert FraudAlert.objects.filter(pensioner=p).count() == 2


def test_late_evidence_restores_a_suspended_person_with_itemised_back_pay(feed):
    p = PensionerFactory(id_number=make_id(24), valid_until=dt.date(2026, 1, 31), status="suspended",
                         suspended_since=dt.date(2026, 5, 1), monthly_amount=Decimal("2500.00"))
    _import(feed, "medical_insurance", [(p.id_number, "2026-07-05", "YB-1")])

    out = matching_run(today=dt.date(2026, 7, 10))

    assert (out["extended"], out["restored"]) == (1, 1)
    p.refresh_from_db()
    assert (p.status, p.valid_until, p.suspended_since) == ("active", dt.date(2027, 7, 5), None)
    bp = BackPay.objects.get(pensioner=p)
    assert [line.month for line in bp.lines.all()] == [dt.date(2026, 5, 1), dt.date(2026, 6, 1), dt.date(2026, 7, 1)]
    assert bp.total == Decimal("7500.00")
    change = StatusChange.objects.get(pensioner=p)
    assert (change.old_status, change.new_status, change.reason) == ("suspended", "active", "certified:big_data")


def test_evidence_that_arrived_before_the_pensioner_is_applied_once_they_are_imported(feed):
    id_number = make_id(25)
    result = _import(feed, "hospital", [(id_number, "2026-06-23", "EARLY-1")])
    assert result.unmatched == 1
    matching_run(today=dt.date(2026, 6, 30))  # nobody to match yet

    p = PensionerFactory(id_number=id_number, valid_until=dt.date(2026, 9, 30))
    out = matching_run(today=dt.date(2026, 7, 1))

    assert out["extended"] == 1
    p.refresh_from_db()
    assert p.valid_until == dt.date(2027, 6, 23)


def test_a_disabled_source_is_not_applied(feed):
    p = PensionerFactory(id_number=make_id(26), valid_until=dt.date(2026, 9, 30))
    _import(feed, "vaccination", [(p.id_number, "2026-06-23", "VAC-1")])
    EvidenceSource.objects.filter(code="vaccination").update(enabled=False)
    assert matching_run(today=dt.date(2026, 7, 1))["extended"] == 0


def test_people_with_no_evidence_still_move_through_the_transitions(feed):
    p = PensionerFactory(id_number=make_id(27), valid_until=dt.date(2026, 6, 30))
    out = matching_run(today=dt.date(2026, 7, 1))
    assert out["entered_warning"] == 1
    p.refresh_from_db()
    assert p.status == "warning"
