import datetime as dt

import pytest

from certification.models import AuditLog, Certification, StatusChange
from certification.services import certification_record, pensioner_mark_deceased
from tests.factories import PensionerFactory

pytestmark = pytest.mark.django_db
D = dt.date


def test_counter_certification_in_warning_restores_active_and_extends_a_year():
    p = PensionerFactory(valid_until=D(2026, 9, 30), status="warning")
    result = certification_record(pensioner=p, method="counter", occurred_on=D(2026, 10, 12), today=D(2026, 10, 12))
    p.refresh_from_db()
    assert (p.status, p.valid_until) == ("active", D(2027, 10, 12))
    assert result.back_pay is None  # warning people were still paid
    assert StatusChange.objects.filter(pensioner=p, new_status="active").count() == 1
    assert AuditLog.objects.filter(pensioner=p, action="certification_record").exists()


def test_a_future_dated_certification_is_refused():
    p = PensionerFactory()
    with pytest.raises(ValueError, match="晚于今天"):
        certification_record(pensioner=p, method="counter", occurred_on=D(2026, 12, 2), today=D(2026, 12, 1))
    assert not Certification.objects.exists()


def test_a_deceased_person_cannot_be_certified():
    p = PensionerFactory(status="deceased", death_date=D(2026, 1, 1))
    with pytest.raises(ValueError, match="死亡"):
        certification_record(pensioner=p, method="counter", occurred_on=D(2026, 3, 1), today=D(2026, 3, 1))


def test_death_opens_an_overpayment_for_months_paid_after_the_death_month():
    p = PensionerFactory(monthly_amount="3000.00")
    over = pensioner_mark_deceased(pensioner=p, death_date=D(2026, 5, 15), today=D(2026, 8, 20), source="death_civil")
    p.refresh_from_db()
    assert (p.status, p.death_date) == ("deceased", D(2026, 5, 15))
    assert over.months == ["2026-06-01", "2026-07-01", "2026-08-01"]
    assert str(over.total) == "9000.00"


def test_marking_deceased_twice_keeps_one_case():
    p = PensionerFactory()
    pensioner_mark_deceased(pensioner=p, death_date=D(2026, 5, 15), today=D(2026, 8, 20), source="death_civil")
    pensioner_mark_deceased(pensioner=p, death_date=D(2026, 5, 15), today=D(2026, 8, 21), source="cremation")
    assert p.overpayments.count() == 1
    assert StatusChange.objects.filter(pensioner=p, new_status="deceased").count() == 1
