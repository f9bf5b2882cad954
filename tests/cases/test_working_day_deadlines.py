"""Case deadlines are working days (pure rules, no database)."""

import datetime as dt

from certification.cases.rules import add_working_days, overdue_opened_before


def test_three_working_days_from_a_thursday_is_the_next_tuesday():
    assert add_working_days(dt.date(2026, 12, 3), 3) == dt.date(2026, 12, 8)


def test_a_case_opened_on_saturday_counts_from_monday():
    assert add_working_days(dt.date(2026, 12, 5), 1) == dt.date(2026, 12, 7)


def test_overdue_threshold_agrees_with_the_deadline_for_every_opening_day():
    today = dt.date(2026, 12, 9)
    cutoff = overdue_opened_before(today, 3)
    for back in range(0, 30):
        opened = today - dt.timedelta(days=back)
        assert (opened < cutoff) == (add_working_days(opened, 3) < today), opened
