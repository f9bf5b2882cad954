"""Certification messages (big-data success, proxy) are made for the certifications not yet announced
since the previous night that ran, not for a window of nights: with the old 3-night look-back over
recorded_at, everyone certified during a longer stop of the nightly job never got their success SMS
(issue 15, item 5). The clock is moved
(time_machine) so that recorded_at and the outbox's created_at follow the nights."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from certification.models import Certification
from notifications.models import Message
from notifications.scheduling import schedule_due
from tests.factories import PensionerFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def night(time_machine, settings):  # type: ignore[no-untyped-def]
    """Move the clock to `day` (a day's afternoon for a certification, 02:00 for the nightly job)."""
    settings.NOTIFY_BIG_DATA_SUCCESS = True

    def at(day: dt.date, hour: int = 2) -> dt.date:
        time_machine.move_to(timezone.make_aware(dt.datetime.combine(day, dt.time(hour))), tick=False)
        return day
    return at


def _big_data(p, day: dt.date, ref: str) -> Certification:  # type: ignore[no-untyped-def]
    return Certification.objects.create(pensioner=p, method="big_data", occurred_on=day, source="hospital",
                                        evidence_ref=ref)


def test_a_big_data_certification_recorded_during_a_six_night_stop_gets_its_success_sms_once(night):
    p = PensionerFactory(valid_until=dt.date(2027, 10, 1))
    schedule_due(today=night(TODAY - dt.timedelta(days=7)))  # the last night before the stop
    _big_data(p, night(TODAY - dt.timedelta(days=6), 14), "h6")  # certified while the job was stopped

    assert schedule_due(today=night(TODAY))["big_data_certified"] == 1  # before the fix: 0, never sent
    assert schedule_due(today=night(TODAY + dt.timedelta(days=1)))["big_data_certified"] == 0
    assert list(Message.objects.filter(pensioner=p).values_list("template", flat=True)) == ["big_data_certified"]


def test_the_success_sms_is_not_sent_again_across_the_new_year(night):
    # The dedup key carries the sending year: before, a certification of 30 December announced that
    # night was announced again on 1 January under the next year's key (still inside the 3 nights).
    p = PensionerFactory(valid_until=dt.date(2027, 12, 1))
    _big_data(p, night(dt.date(2026, 12, 29), 14), "h0")
    assert schedule_due(today=night(dt.date(2026, 12, 30)))["big_data_certified"] == 1
    assert schedule_due(today=night(dt.date(2027, 1, 1)))["big_data_certified"] == 0


def test_a_new_certification_after_the_announced_one_waits_for_the_next_year(night):
    p = PensionerFactory(valid_until=dt.date(2027, 10, 1))
    _big_data(p, night(TODAY - dt.timedelta(days=20), 14), "h20")
    assert schedule_due(today=night(TODAY - dt.timedelta(days=19)))["big_data_certified"] == 1
    _big_data(p, night(TODAY - dt.timedelta(days=1), 14), "h-new")
    assert schedule_due(today=night(TODAY))["big_data_certified"] == 0  # one per person per year (the key)
    assert schedule_due(today=night(dt.date(2027, 1, 2)))["big_data_certified"] == 1  # not yet announced


def test_after_a_stop_longer_than_a_cycle_an_older_certification_is_no_longer_news(night):
    p = PensionerFactory(valid_until=dt.date(2027, 10, 1))
    schedule_due(today=night(TODAY - dt.timedelta(days=420)))  # the previous night that ran
    _big_data(p, night(TODAY - dt.timedelta(days=400), 14), "h400")
    q = PensionerFactory(valid_until=dt.date(2027, 10, 1))
    _big_data(q, night(TODAY - dt.timedelta(days=300), 14), "h300")
    assert schedule_due(today=night(TODAY))["big_data_certified"] == 1  # q's, within the cycle
    assert Message.objects.get(template="big_data_certified").pensioner_id == q.pk


def test_a_proxy_certification_recorded_during_a_five_night_stop_is_announced_once(night):
    p = PensionerFactory(valid_until=dt.date(2027, 10, 1))
    helper = UserFactory(username="helper-5", first_name="明", last_name="王")
    schedule_due(today=night(TODAY - dt.timedelta(days=6)))  # the last night before the stop
    day = night(TODAY - dt.timedelta(days=5), 14)
    Certification.objects.create(pensioner=p, method="face_proxy", occurred_on=day, helper=helper,
                                 helper_relationship="女儿")

    assert schedule_due(today=night(TODAY))["proxy_certified"] == 1  # before the fix: 0, never sent
    assert schedule_due(today=night(TODAY + dt.timedelta(days=1)))["proxy_certified"] == 0
    assert Message.objects.get(pensioner=p).template == "proxy_certified"
