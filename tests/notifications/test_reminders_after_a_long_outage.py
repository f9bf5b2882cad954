"""Reminders are claimed from status-change rows, so a late night sends every event exactly once
(STYLE §3; issue 9 finding 7: after an outage of more than 3 days nothing was sent)."""

from __future__ import annotations

import datetime as dt

import pytest

from certification.models import StatusChange
from certification.services import transitions_run
from notifications.models import Message
from notifications.scheduling import schedule_due
from tests.factories import PensionerFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 30)


def test_a_warning_entered_five_nights_before_the_scheduler_ran_is_still_sent_once():
    p = PensionerFactory(valid_until=TODAY - dt.timedelta(days=1), relative_phone="13800000019")
    transitions_run(today=TODAY)

    late = schedule_due(today=TODAY + dt.timedelta(days=5))

    assert late["entered_warning"] == 2  # the pensioner and the trusted relative
    assert sorted(Message.objects.filter(pensioner=p).values_list("template", flat=True)) == [
        "warning_entered", "warning_entered_relative"]
    change = StatusChange.objects.get(pensioner=p)
    assert change.processed_at is not None
    assert schedule_due(today=TODAY + dt.timedelta(days=6))["entered_warning"] == 0
    assert Message.objects.filter(pensioner=p).count() == 2


def test_suspensions_of_several_missed_nights_are_each_sent_once_in_one_late_run():
    people = [PensionerFactory(valid_until=TODAY - dt.timedelta(days=93 + k)) for k in range(3)]
    for k in range(3):  # three nights of transitions, no scheduler
        transitions_run(today=TODAY + dt.timedelta(days=k))
    assert StatusChange.objects.filter(processed_at__isnull=True).count() == 3

    counts = schedule_due(today=TODAY + dt.timedelta(days=8))

    assert counts["suspended"] == 3
    assert set(Message.objects.filter(template="suspended").values_list("pensioner_id", flat=True)) == {
        p.pk for p in people}
    assert not StatusChange.objects.filter(processed_at__isnull=True).exists()
    assert schedule_due(today=TODAY + dt.timedelta(days=9))["suspended"] == 0
