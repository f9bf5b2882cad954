"""The DESIGN §2 rules as pure functions: no database."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certification import rules
from certification.rules import Status

D = dt.date


def test_seed_example_hospital_record_in_june_extends_to_next_june():
    # Validity ends in September; a hospital admission on 23 June gives 23 June next year.
    assert rules.extend(D(2026, 9, 30), D(2026, 6, 23)) == D(2027, 6, 23)


def test_31_january_plus_one_month_is_end_of_february():
    assert rules.add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert rules.add_months(D(2028, 1, 31), 1) == D(2028, 2, 29)


def test_29_february_plus_twelve_months_is_28_february():
    assert rules.add_months(D(2028, 2, 29), 12) == D(2029, 2, 28)
    assert rules.extend(None, D(2028, 2, 29)) == D(2029, 2, 28)


def test_evidence_older_than_current_validity_changes_nothing():
    assert rules.extend(D(2027, 12, 1), D(2026, 3, 1)) == D(2027, 12, 1)


def test_extension_never_shortens_even_by_one_day():
    assert rules.extend(D(2027, 6, 24), D(2026, 6, 23)) == D(2027, 6, 24)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2026, 9, 30), Status.ACTIVE),      # the last valid day
        (D(2026, 10, 1), Status.WARNING),     # the day after
        (D(2026, 12, 30), Status.WARNING),    # warning ends on valid_until + 3 months
        (D(2026, 12, 31), Status.SUSPENDED),  # the day after the warning window
    ],
)
def test_status_at_window_edges(today, expected):
    assert rules.status(D(2026, 9, 30), today) is expected


def test_warning_end_uses_calendar_months_from_30_november():
    # 30 Nov + 3 months clamps to 28 Feb: suspended from 1 March.
    assert rules.warning_ends(D(2026, 11, 30)) == D(2027, 2, 28)
    assert rules.suspension_date(D(2026, 11, 30)) == D(2027, 3, 1)


@given(st.dates(min_value=D(1990, 1, 1), max_value=D(2090, 12, 31)))
def test_earliest_unsuspended_threshold_is_exactly_the_rule_boundary(today):
    floor = rules.earliest_unsuspended_valid_until(today)
    assert rules.status(floor, today) is not Status.SUSPENDED
    assert rules.status(floor - dt.timedelta(days=1), today) is Status.SUSPENDED


@given(st.dates(min_value=D(1990, 1, 1), max_value=D(2090, 12, 31)), st.integers(-2000, 2000))
def test_sql_threshold_comparison_agrees_with_status_for_any_validity(today, offset):
    valid_until = today + dt.timedelta(days=offset)
    floor = rules.earliest_unsuspended_valid_until(today)
    by_threshold = (
        Status.ACTIVE if valid_until >= today else Status.WARNING if valid_until >= floor else Status.SUSPENDED
    )
    assert by_threshold is rules.status(valid_until, today)


def test_missed_months_are_the_firsts_inside_the_suspension():
    # Suspended from 16 June, restored 10 August: July and August were not paid.
    assert rules.missed_months(D(2026, 6, 16), D(2026, 8, 10)) == [D(2026, 7, 1), D(2026, 8, 1)]


def test_suspension_starting_on_the_first_misses_that_month():
    assert rules.missed_months(D(2026, 7, 1), D(2026, 7, 2)) == [D(2026, 7, 1)]


def test_restored_on_the_first_is_paid_that_month_so_no_back_pay_for_it():
    assert rules.missed_months(D(2026, 6, 16), D(2026, 8, 1)) == [D(2026, 7, 1)]


def test_back_pay_is_itemised_by_month():
    lines = rules.back_pay([D(2026, 7, 1), D(2026, 8, 1)], Decimal("3210.50"))
    assert lines == [(D(2026, 7, 1), Decimal("3210.50")), (D(2026, 8, 1), Decimal("3210.50"))]
    assert sum(a for _, a in lines) == Decimal("6421.00")


def test_overpayment_covers_paid_months_strictly_after_the_death_month_up_to_the_run_month():
    # Died 15 May; found on 20 August: June, July and August were paid after death.
    assert rules.overpaid_months(D(2026, 5, 15), D(2026, 8, 20)) == [D(2026, 6, 1), D(2026, 7, 1), D(2026, 8, 1)]


def test_no_overpayment_when_death_is_found_in_the_death_month():
    assert rules.overpaid_months(D(2026, 8, 3), D(2026, 8, 20)) == []


def test_months_inside_a_suspension_were_not_paid_so_are_not_owed():
    months = rules.overpaid_months(D(2026, 5, 15), D(2026, 9, 2), suspended_since=D(2026, 7, 20))
    assert months == [D(2026, 6, 1), D(2026, 7, 1)]


def test_age_counts_birthdays():
    assert rules.age_on(D(1946, 12, 1), D(2026, 11, 30)) == 79
    assert rules.age_on(D(1946, 11, 30), D(2026, 11, 30)) == 80
