"""Celery tasks: thin wrappers that take plain values and call services."""

from __future__ import annotations

import datetime as dt

from celery import chord, shared_task
from django.conf import settings

from . import rules
from .nightly import nightly_after_matching, nightly_run


@shared_task(name="certification.run_nightly", acks_late=True)
def run_nightly_task(today: str | None = None, queue: str | None = None, chunk_size: int | None = None) -> dict:
    """Beat runs this at 02:00 Asia/Shanghai; every step is idempotent, so a redelivery is harmless.

    With a real broker the matching is split into chunks, one per evidence partition
    (bigdata.partitions), that workers on several machines share (a Celery chord); the rest of the night runs once every
    chunk is done. Eager Celery (the demo) runs the whole night inline.
    """
    day = dt.date.fromisoformat(today) if today else rules.today_local()
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.NIGHTLY_SCALE_OUT:
        return nightly_run(today=day)
    from bigdata.tasks import matching_chunk_signatures

    run_id, chunks = matching_chunk_signatures(day=day, chunk_size=chunk_size, queue=queue)
    options = {"queue": queue} if queue else {}
    after = nightly_after_matching_task.si(day.isoformat()).set(**options)
    if chunks:
        chord(chunks)(after)
    else:
        after.apply_async()
    return {"today": day.isoformat(), "matching_run": run_id, "chunks": len(chunks)}


@shared_task(name="certification.nightly_after_matching", acks_late=True)
def nightly_after_matching_task(today: str) -> dict:
    """Transitions, reminders, dashboard snapshot: after all of the night's matching chunks."""
    return {"today": today, **nightly_after_matching(today=dt.date.fromisoformat(today))}


@shared_task(name="certification.ping")
def ping(value: int) -> dict:
    """A round trip through the broker, for health checks and the end-to-end test."""
    from .models import District

    return {"value": value, "districts": District.objects.count()}
