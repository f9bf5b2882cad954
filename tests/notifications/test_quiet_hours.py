"""SMS goes out only between 08:00 and 20:00 Asia/Shanghai; rows wait otherwise."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from notifications import quiet
from notifications.models import Message
from notifications.services import outbox_drain, outbox_enqueue

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(("hh", "mm", "is_quiet"), [
    (7, 59, True), (8, 0, False), (12, 0, False), (19, 59, False), (20, 0, True), (23, 30, True), (0, 0, True),
])
def test_quiet_hours_edges_in_shanghai_time(hh, mm, is_quiet):
    assert quiet.is_quiet(dt.datetime(2026, 11, 30, hh, mm, tzinfo=SH)) is is_quiet


def test_a_message_decided_at_night_is_due_at_eight_the_next_morning():
    at = dt.datetime(2026, 11, 30, 22, 15, tzinfo=SH)
    assert quiet.next_allowed(at) == dt.datetime(2026, 12, 1, 8, 0, tzinfo=SH)
    early = dt.datetime(2026, 12, 1, 6, 0, tzinfo=SH)
    assert quiet.next_allowed(early) == dt.datetime(2026, 12, 1, 8, 0, tzinfo=SH)


def test_quiet_hours_follow_the_settings(settings):
    settings.SMS_QUIET_START_HOUR, settings.SMS_QUIET_END_HOUR = 21, 9
    assert quiet.is_quiet(dt.datetime(2026, 11, 30, 8, 30, tzinfo=SH))
    assert not quiet.is_quiet(dt.datetime(2026, 11, 30, 20, 30, tzinfo=SH))


@pytest.mark.django_db
def test_the_drain_sends_nothing_at_night_and_everything_after_eight(time_machine, sent_sms):
    time_machine.move_to(dt.datetime(2026, 11, 30, 21, 0, tzinfo=SH), tick=False)
    outbox_enqueue(phone="13900000001", template="staff_message", context={"text": "晚上好"}, dedup_key="n1")
    assert outbox_drain()["sent"] == 0
    time_machine.move_to(dt.datetime(2026, 12, 1, 7, 59, tzinfo=SH), tick=False)
    assert outbox_drain()["sent"] == 0
    assert sent_sms() == []
    assert Message.objects.get().status == Message.Status.QUEUED
    time_machine.move_to(dt.datetime(2026, 12, 1, 8, 0, tzinfo=SH), tick=False)
    assert outbox_drain()["sent"] == 1
    assert [m["text"] for m in sent_sms()] == ["【青岛人社】晚上好"]
