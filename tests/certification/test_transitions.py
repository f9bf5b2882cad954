"""The set-based transitions step: active → warning → suspended → active."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certification import rules
from certification.models import BackPay, Pensioner, StatusChange
from certification.services import certification_record, transitions_run
from tests.factories import PensionerFactory

pytestmark = pytest.mark.django_db
D = dt.date


def test_expired_person_enters_warning_with_a_status_change_row():
    p = PensionerFactory(valid_until=D(2026, 9, 30))
    counts = transitions_run(today=D(2026, 10, 1))
    p.refresh_from_db()
    assert p.status == "warning"
    assert counts.entered_warning == 1
    change = StatusChange.objects.get(pensioner=p)
    assert (change.old_status, change.new_status, change.effective_on) == ("active", "warning", D(2026, 10, 1))


def test_suspension_dates_from_the_day_after_the_warning_window_even_when_noticed_late():
    p = PensionerFactory(valid_until=D(2026, 5, 31), status="warning")
    transitions_run(today=D(2026, 10, 15))  # window ended 31 Aug; noticed mid-October
    p.refresh_from_db()
    assert p.status == "suspended"
    assert p.suspended_since == D(2026, 9, 1)


def test_active_person_can_go_straight_to_suspended_when_the_job_missed_months():
    p = PensionerFactory(valid_until=D(2026, 1, 10))
    counts = transitions_run(today=D(2026, 6, 1))
    p.refresh_from_db()
    assert (p.status, counts.suspended, counts.entered_warning) == ("suspended", 1, 0)


def test_second_run_on_the_same_day_changes_nothing():
    PensionerFactory(valid_until=D(2026, 9, 30))
    PensionerFactory(valid_until=D(2026, 3, 1))
    first = transitions_run(today=D(2026, 10, 1))
    rows = StatusChange.objects.count()
    second = transitions_run(today=D(2026, 10, 1))
    assert (first.entered_warning, first.suspended) == (1, 1)
    assert (second.entered_warning, second.suspended, second.restored) == (0, 0, 0)
    assert StatusChange.objects.count() == rows


def test_deceased_people_are_never_moved():
    p = PensionerFactory(valid_until=D(2025, 1, 1), status="deceased", death_date=D(2025, 6, 1))
    transitions_run(today=D(2026, 10, 1))
    p.refresh_from_db()
    assert p.status == "deceased"


def test_restoring_a_suspended_person_creates_itemised_back_pay():
    p = PensionerFactory(valid_until=D(2026, 3, 10), monthly_amount=Decimal("2500.00"))
    transitions_run(today=D(2026, 6, 20))  # suspended since 11 June
    p.refresh_from_db()
    assert p.suspended_since == D(2026, 6, 11)
    result = certification_record(pensioner=p, method="counter", occurred_on=D(2026, 8, 20), today=D(2026, 8, 20))
    p.refresh_from_db()
    assert (p.status, p.valid_until, p.suspended_since) == ("active", D(2027, 8, 20), None)
    bp = result.back_pay
    assert [line.month for line in bp.lines.all()] == [D(2026, 7, 1), D(2026, 8, 1)]
    assert bp.total == Decimal("5000.00")


def test_set_based_restore_gives_the_same_back_pay_as_the_rules():
    p = PensionerFactory(valid_until=D(2026, 3, 10), monthly_amount=Decimal("1999.99"))
    transitions_run(today=D(2026, 6, 20))
    # Validity moved by some other write (e.g. the roster import), then the nightly step restores.
    Pensioner.objects.filter(pk=p.pk).update(valid_until=D(2027, 1, 1))
    counts = transitions_run(today=D(2026, 10, 5))
    p.refresh_from_db()
    bp = BackPay.objects.get(pensioner=p)
    expected = rules.back_pay(rules.missed_months(D(2026, 6, 11), D(2026, 10, 5)), Decimal("1999.99"))
    assert counts.restored == 1 and p.status == "active"
    assert [(line.month, line.amount) for line in bp.lines.all()] == expected
    assert bp.total == sum(a for _, a in expected)


def test_pk_range_limits_the_chunk():
    a = PensionerFactory(valid_until=D(2026, 9, 30))
    b = PensionerFactory(valid_until=D(2026, 9, 30))
    transitions_run(today=D(2026, 10, 1), pk_range=(a.pk, a.pk + 1))
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, b.status) == ("warning", "active")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), today=st.dates(min_value=D(2025, 1, 1), max_value=D(2028, 12, 31)))
def test_sql_transitions_agree_with_the_rules_on_a_generated_population(seed, today):
    rng = random.Random(seed)
    Pensioner.objects.all().delete()
    people = [
        PensionerFactory(valid_until=today + dt.timedelta(days=rng.randint(-220, 60)),
                         status=rng.choice(["active", "warning"]))
        for _ in range(25)
    ]
    transitions_run(today=today)
    for p in people:
        p.refresh_from_db()
        assert p.status == rules.status(p.valid_until, today), (p.valid_until, today)
        if p.status == "suspended":
            assert p.suspended_since == rules.suspension_date(p.valid_until)
