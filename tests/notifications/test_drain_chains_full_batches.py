"""A full drain batch chains the next one at once (a morning backlog is not paced by beat)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from notifications import services, tasks
from notifications.models import Message
from notifications.services import OutboxItem, outbox_enqueue_many

pytestmark = pytest.mark.django_db


def test_a_full_batch_queues_the_next_drain_and_a_partial_one_does_not(monkeypatch, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
    monkeypatch.setattr(services, "_kick", lambda message_id=None: None)
    outbox_enqueue_many(OutboxItem(phone=f"1390000000{i}", template="staff_message", context={"text": "x"},
                                   dedup_key=f"chain:{i}") for i in range(3))
    monkeypatch.setattr(services, "DRAIN_BATCH", 2)
    chained = []
    monkeypatch.setattr(tasks.outbox_drain_task, "delay", lambda: chained.append(1))
    tasks.outbox_drain_task.app.conf.task_always_eager = False  # the autouse fixture restores it
    assert tasks.outbox_drain_task()["sent"] == 2
    assert chained == [1]
    assert tasks.outbox_drain_task()["sent"] == 1
    assert chained == [1]
    assert Message.objects.filter(status="sent").count() == 3
