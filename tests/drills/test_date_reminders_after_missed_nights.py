"""Date-driven reminders missed while the nightly job was stopped are sent late, once (drill 7's finding:
with a 3-night catch-up, the reminders of the first nights of a 5-night stop were lost)."""

from __future__ import annotations

import datetime as dt

import pytest

from certification import rules
from notifications.models import Message
from notifications.scheduling import schedule_due
from tests.factories import PensionerFactory

pytestmark = pytest.mark.django_db

RESUMED = dt.date(2027, 1, 20)


def _valid_until_with_suspension_in(days: int) -> dt.date:
    v = RESUMED - dt.timedelta(days=120)
    while rules.days_until_suspension(v, RESUMED) != days:
        v += dt.timedelta(days=1)
    return v


def test_a_suspension_notice_due_five_nights_before_the_job_resumed_is_sent_once():
    # Seven days before suspension fell on RESUMED - 5: the job was stopped that night.
    p = PensionerFactory(valid_until=_valid_until_with_suspension_in(2), status="warning")

    schedule_due(today=RESUMED)
    schedule_due(today=RESUMED + dt.timedelta(days=1))

    assert list(Message.objects.filter(pensioner=p, template="suspension_soon").values_list("dedup_key", flat=True)) == [
        f"suspension-soon:{p.pk}:{p.valid_until}"]


def test_a_thirty_day_warning_reminder_due_five_nights_before_the_job_resumed_is_sent_once():
    # Day 1 of warning is valid_until + 1; the first reminder is due 30 days later, 5 nights ago.
    p = PensionerFactory(valid_until=RESUMED - dt.timedelta(days=1 + 30 + 5), status="warning")

    schedule_due(today=RESUMED)
    schedule_due(today=RESUMED + dt.timedelta(days=1))

    keys = list(Message.objects.filter(pensioner=p, template="warning_reminder").values_list("dedup_key", flat=True))
    assert keys == [f"warning-reminder:{p.pk}:{p.valid_until}:1"]


def test_the_next_reminder_is_not_sent_early_and_the_last_one_not_again():
    # 29 days after the first reminder was due: still the first (already sent), not the second.
    p = PensionerFactory(valid_until=RESUMED - dt.timedelta(days=1 + 30 + 29), status="warning")
    schedule_due(today=RESUMED - dt.timedelta(days=29))  # the night it was due
    schedule_due(today=RESUMED)

    keys = list(Message.objects.filter(pensioner=p, template="warning_reminder").values_list("dedup_key", flat=True))
    assert keys == [f"warning-reminder:{p.pk}:{p.valid_until}:1"]
