"""Pure date rules of the case list: working-day deadlines (no database)."""

from __future__ import annotations

import datetime as dt


def is_working_day(day: dt.date) -> bool:
    # Monday–Friday. China's statutory holidays and make-up Saturdays are not modelled:
    # a deadline over a holiday week comes due early, never late.
    return day.weekday() < 5


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day after `start` (a Friday + 1 is the Monday)."""
    day = start
    left = max(n, 0)
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def is_overdue(due_on: dt.date | None, today: dt.date) -> bool:
    return due_on is not None and due_on < today


def overdue_opened_before(today: dt.date, n: int) -> dt.date:
    """Cases opened before this date are overdue today (their due date is before today).

    add_working_days is non-decreasing in `start`, so overdue ⇔ opened_on < the
    earliest date whose deadline is today or later; SQL compares opened_on to it for
    rows that carry no due date of their own (fraud alerts).
    """
    day = today
    while add_working_days(day - dt.timedelta(days=1), n) >= today:
        day -= dt.timedelta(days=1)
    return day
