"""Two workers draining at once never send one row twice (conditional UPDATE claim, on PostgreSQL)."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from notifications.models import Message
from notifications.services import OutboxItem, _claim, outbox_drain, outbox_enqueue_many

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _no_kick(monkeypatch):
    # The threads below are the only workers: no on-commit send behind their backs.
    monkeypatch.setattr("notifications.services._kick", lambda message_id=None: None)


def _run_in_threads(n, fn):
    barrier = threading.Barrier(n)
    results = [None] * n

    def work(i):
        try:
            barrier.wait()
            results[i] = fn()
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_only_one_of_many_concurrent_claims_of_a_row_wins(require_postgres, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 30, 10, 0, tzinfo=SH), tick=False)
    outbox_enqueue_many([OutboxItem(phone="13900000001", template="staff_message", context={"text": "x"},
                                    dedup_key="race-1")])
    msg = Message.objects.get()
    now = dt.datetime(2026, 11, 30, 10, 0, tzinfo=SH)
    wins = _run_in_threads(8, lambda: _claim(msg.pk, now))
    assert wins.count(True) == 1
    msg.refresh_from_db()
    assert (msg.status, msg.attempts) == (Message.Status.SENDING, 1)


def test_two_draining_workers_send_every_row_exactly_once(require_postgres, sent_sms, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 30, 10, 0, tzinfo=SH), tick=False)
    n = 120
    outbox_enqueue_many(OutboxItem(phone=f"139{i:08d}", template="staff_message", context={"text": f"第{i}条"},
                                   dedup_key=f"race:{i}") for i in range(n))
    counts = _run_in_threads(2, lambda: outbox_drain(limit=n))
    sent = sent_sms()
    assert len(sent) == n
    assert len({m["phone"] for m in sent}) == n
    assert sum(c["sent"] for c in counts) == n
    # Rows both workers listed were claimed by one and skipped by the other, never re-sent.
    assert sum(c["skipped"] for c in counts) <= n
    assert Message.objects.filter(status=Message.Status.SENT, attempts=1).count() == n
