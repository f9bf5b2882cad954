"""Thin Celery tasks (STYLE §5)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from .models import SignInEvent

# Events only feed limits of an hour or less; a day of them is kept for investigations.
KEEP = dt.timedelta(days=1)


@shared_task(acks_late=True, ignore_result=True)
def signin_code_deliver_task(sms_code_id: int) -> bool:
    from certification.signin import sms_code_deliver

    return sms_code_deliver(sms_code_id=sms_code_id)


@shared_task(acks_late=True, ignore_result=True)
def signin_events_purge_task() -> int:
    deleted, _ = SignInEvent.objects.filter(created_at__lt=timezone.now() - KEEP).delete()
    return deleted
