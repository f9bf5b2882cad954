"""Celery tasks: thin wrappers that take plain values and call services."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from . import rules
from .nightly import nightly_run


@shared_task(name="certification.run_nightly", acks_late=True)
def run_nightly_task(today: str | None = None) -> dict:
    """Beat runs this at 02:00 Asia/Shanghai; every step is idempotent, so a redelivery is harmless."""
    day = dt.date.fromisoformat(today) if today else rules.today_local()
    return nightly_run(today=day)


@shared_task(name="certification.ping")
def ping(value: int) -> dict:
    """A round trip through the broker, for health checks and the end-to-end test."""
    from .models import District

    return {"value": value, "districts": District.objects.count()}
