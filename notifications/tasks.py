"""Thin Celery tasks (STYLE §5): take ids, call a service."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True)
def outbox_send_task(message_id: int) -> str:
    # Retries live in the row (next_attempt_at with backoff), not in Celery: a
    # temporary failure is picked up again by the periodic drain.
    return services.outbox_send(message_id=message_id)


@shared_task(acks_late=True, ignore_result=True)
def outbox_drain_task() -> dict[str, int]:
    counts = services.outbox_drain()
    # A full batch means more is due (e.g. 08:00 after a night of reminders): chain
    # the next bounded batch now instead of waiting a minute for beat. Not when
    # eager: there it would recurse; beat and the next kick carry on instead.
    handled = sum(counts[k] for k in ("sent", "failed", "permanently_failed", "skipped"))
    if handled >= services.DRAIN_BATCH and not outbox_drain_task.app.conf.task_always_eager:
        outbox_drain_task.delay()
    return counts
