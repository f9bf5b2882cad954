"""Case deadlines in working days, by the calendar staff keep (CalendarDay, DESIGN §5)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from .models import CalendarDay
from .rules import WorkCalendar, add_working_days


def work_calendar() -> WorkCalendar:
    """Every holiday and make-up working day on file (a few dozen rows a year)."""
    holidays, workdays = set(), set()
    for day, kind in CalendarDay.objects.values_list("day", "kind"):
        (workdays if kind == CalendarDay.Kind.WORKDAY else holidays).add(day)
    return WorkCalendar(holidays=frozenset(holidays), workdays=frozenset(workdays))


def due_date(opened_on: dt.date, calendar: WorkCalendar | None = None) -> dt.date:
    """CASE_ANSWER_WORKING_DAYS working days after the day a case was opened."""
    return add_working_days(opened_on, settings.CASE_ANSWER_WORKING_DAYS, calendar or work_calendar())
