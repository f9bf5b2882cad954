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
    return services.outbox_drain()
