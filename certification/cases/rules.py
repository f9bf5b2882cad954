"""Pure date rules of the case list: working-day deadlines (no database).

A working day is Monday–Friday, except the public holidays, plus the weekend days
worked in their place (调休). Both lists come from `WorkCalendar`, which the cases app
builds from the staff-maintained `CalendarDay` rows (.selectors.work_calendar); the
rules themselves never read the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[dt.date] = field(default_factory=frozenset)  # 放假: a weekday not worked
    workdays: frozenset[dt.date] = field(default_factory=frozenset)  # 调休上班: a weekend day worked


PLAIN_WEEKS = WorkCalendar()


def is_working_day(day: dt.date, calendar: WorkCalendar = PLAIN_WEEKS) -> bool:
    if day in calendar.workdays:
        return True
    if day in calendar.holidays:
        return False
    return day.weekday() < 5


def add_working_days(start: dt.date, n: int, calendar: WorkCalendar = PLAIN_WEEKS) -> dt.date:
    """The n-th working day after `start` (a Friday + 1 is the Monday, unless a holiday)."""
    day = start
    left = max(n, 0)
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day, calendar):
            left -= 1
    return day


def is_overdue(due_on: dt.date | None, today: dt.date) -> bool:
    return due_on is not None and due_on < today


def overdue_opened_before(today: dt.date, n: int, calendar: WorkCalendar = PLAIN_WEEKS) -> dt.date:
    """Cases opened before this date are overdue today (their due date is before today).

    add_working_days is non-decreasing in `start`, so overdue ⇔ opened_on < the
    earliest date whose deadline is today or later; SQL compares opened_on to it for
    rows that carry no due date of their own (fraud alerts).
    """
    day = today
    while add_working_days(day - dt.timedelta(days=1), n, calendar) >= today:
        day -= dt.timedelta(days=1)
    return day
