"""The outbox: enqueue (idempotent on the dedup key), claim, send, retry.

Every message is a row before it is sent. Sending is driven two ways:
- on commit, the enqueuer kicks a Celery task for the new row (fast path);
- a periodic drain (beat, every minute) sends whatever is due. If Redis was down
  when the kick was attempted, the row simply waits for the drain: nothing is lost.
Claims are conditional UPDATEs (STYLE §6), so two workers never send one row.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from certification import names
from certification.models import Certification, Pensioner
from certification.services import pensioner_set_phone_invalid

from . import quiet, texts
from .models import Message
from .transports import TransportError, get_transport

log = logging.getLogger(__name__)

WAITING = (Message.Status.QUEUED, Message.Status.FAILED)


def max_attempts() -> int:
    return settings.NOTIFY_MAX_ATTEMPTS


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff after the n-th failed attempt: base, 2×base, 4×base … capped."""
    base = settings.NOTIFY_RETRY_BASE_SECONDS
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), settings.NOTIFY_RETRY_MAX_SECONDS))


@dataclass(frozen=True)
class OutboxItem:
    phone: str
    template: str
    context: dict[str, object] = field(default_factory=dict)
    dedup_key: str = ""
    pensioner_id: int | None = None
    channel: str = Message.Channel.SMS


def _build(item: OutboxItem, now: dt.datetime, *, phone_invalid: bool = False) -> Message:
    phone = (item.phone or "").strip()
    msg = Message(
        pensioner_id=item.pensioner_id, channel=item.channel, recipient=phone, template=item.template,
        text=texts.render(item.template, item.context), dedup_key=item.dedup_key[:200],
        status=Message.Status.QUEUED, next_attempt_at=quiet.next_allowed_for(item.template, now),
    )
    # Kept as a row (the event happened) but never sent: nobody to send it to.
    if not phone:
        msg.status, msg.last_error = Message.Status.PERMANENTLY_FAILED, "无手机号"
    elif phone_invalid:
        msg.status, msg.last_error = Message.Status.PERMANENTLY_FAILED, "手机号已标记为无效"
    return msg


def publish_once(task: Any, args: tuple = (), *, what: str, on_failure: Callable[[], object] | None = None,
                 inline_raises: bool = True, **options: Any) -> bool:
    """The bounded publish for work a page starts: one attempt, never a hang, never a lost job.

    One publish attempt (retry=False; config/celery.py gives pages no reconnect retry), each
    socket bounded by REDIS_SOCKET_TIMEOUT: the page answers within 2 s whether Redis refuses
    or is gone without answering (docs/reliability.md, drill 10). On a broker error the work
    must already be waiting somewhere durable (an outbox row, a pending attempt) or
    `on_failure` records it (e.g. marks the run failed with a reason to start it again).
    Inline (eager) errors are the task's own, not the broker's: they propagate unless
    `inline_raises` is False (the outbox: a failed send is retried from its row).
    """
    try:
        task.apply_async(args, retry=False, **options)
    except Exception as exc:  # noqa: BLE001 - any broker error
        if task.app.conf.task_always_eager:
            if inline_raises:
                raise
            log.warning("%s failed inline (%s); retried from its row", what, type(exc).__name__)
            return False
        log.warning("%s failed (%s); not queued", what, type(exc).__name__)
        if on_failure is not None:
            on_failure()
        return False
    return True


def _kick(message_id: int | None = None) -> None:
    """Ask a worker to send now. A broker outage only delays: the periodic drain catches up."""
    from . import tasks

    if message_id is None:
        publish_once(tasks.outbox_drain_task, what="outbox drain kick", inline_raises=False)
    else:
        publish_once(tasks.outbox_send_task, (message_id,), what="outbox kick", inline_raises=False)


def _phone_invalid(pensioner_id: int | None, phone: str) -> bool:
    if pensioner_id is None:
        return False
    return Pensioner.objects.filter(pk=pensioner_id, phone=phone, phone_invalid=True).exists()


@transaction.atomic
def outbox_enqueue(
    *,
    phone: str,
    template: str,
    context: dict[str, object],
    dedup_key: str,
    pensioner_id: int | None = None,
    channel: str = "sms",
) -> Message:
    """Insert one message row, or return the existing one with this dedup key.

    The text is rendered now and stored. The send is scheduled on commit, so a
    rolled-back transaction sends nothing.
    """
    if not dedup_key:
        raise ValueError("dedup_key is required")
    item = OutboxItem(phone=phone, template=template, context=context, dedup_key=dedup_key,
                      pensioner_id=pensioner_id, channel=channel)
    msg = _build(item, timezone.now(), phone_invalid=_phone_invalid(pensioner_id, item.phone.strip()))
    existing = Message.objects.filter(dedup_key=msg.dedup_key).first()
    if existing is not None:
        return existing
    # get_or_create closes the race with a concurrent enqueuer of the same key.
    obj, created = Message.objects.get_or_create(
        dedup_key=msg.dedup_key,
        defaults={f.attname: getattr(msg, f.attname) for f in Message._meta.concrete_fields
                  if f.attname not in ("id", "dedup_key", "created_at")},
    )
    if created and obj.status == Message.Status.QUEUED and obj.next_attempt_at <= timezone.now():
        transaction.on_commit(lambda: _kick(obj.pk))
    return obj


def outbox_enqueue_many(items: Iterable[OutboxItem], *, batch_size: int = 1000) -> int:
    """Bulk, idempotent enqueue for the nightly scheduler. Returns how many rows were new.

    Existing dedup keys are skipped; ON CONFLICT DO NOTHING covers a concurrent run.
    One drain kick on commit for the whole lot instead of one task per row.
    """
    now = timezone.now()
    created = 0
    batch: list[OutboxItem] = []

    def flush() -> None:
        nonlocal created
        keys = {i.dedup_key[:200] for i in batch}
        seen = set(Message.objects.filter(dedup_key__in=keys).values_list("dedup_key", flat=True))
        rows, fresh = [], set()
        for item in batch:
            key = item.dedup_key[:200]
            if key in seen or key in fresh:
                continue
            fresh.add(key)
            rows.append(_build(item, now))
        Message.objects.bulk_create(rows, ignore_conflicts=True)
        created += len(rows)
        batch.clear()

    with transaction.atomic():
        for item in items:
            batch.append(item)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
        if created:
            transaction.on_commit(_kick)
    return created


def _claim(message_id: int, now: dt.datetime) -> bool:
    """The conditional UPDATE: exactly one caller moves a waiting row to `sending`."""
    return Message.objects.filter(pk=message_id, status__in=WAITING, next_attempt_at__lte=now).update(
        status=Message.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    ) == 1


def outbox_send(*, message_id: int, now: dt.datetime | None = None) -> str:
    """Claim and send one row. Returns the row's resulting status, or "skipped"/"quiet".

    No transaction is held across the network call: the claim is committed first,
    so a second worker sees `sending` and skips the row.
    """
    now = now or timezone.now()
    if quiet.is_quiet(now) and not Message.objects.filter(
            pk=message_id, template__in=quiet.IMMEDIATE_TEMPLATES).exists():
        return "quiet"
    if not _claim(message_id, now):
        return "skipped"
    msg = Message.objects.get(pk=message_id)
    try:
        result = get_transport().notify(phone=msg.recipient, text=msg.text)
    except TransportError as exc:
        return _record_failure(msg, exc, now)
    Message.objects.filter(pk=msg.pk, status=Message.Status.SENDING).update(
        status=Message.Status.SENT, provider_id=result.provider_id, sent_at=timezone.now(), last_error=""
    )
    _forget_code(msg)
    return Message.Status.SENT


_SIX_DIGITS = re.compile(r"\b\d{6}\b")


def _forget_code(msg: Message) -> None:
    """A sign-in code stays in its row only until it is sent or given up (issue 13): whoever
    reads the outbox afterwards (the Django admin) must not be able to sign in with it."""
    if msg.template in quiet.IMMEDIATE_TEMPLATES:
        Message.objects.filter(pk=msg.pk).update(text=_SIX_DIGITS.sub("******", msg.text))


def _record_failure(msg: Message, exc: TransportError, now: dt.datetime) -> str:
    final = exc.permanent or msg.attempts >= max_attempts()
    status = Message.Status.PERMANENTLY_FAILED if final else Message.Status.FAILED
    next_at = quiet.next_allowed_for(msg.template, now + retry_delay(msg.attempts))
    Message.objects.filter(pk=msg.pk, status=Message.Status.SENDING).update(
        status=status, last_error=str(exc)[:500], next_attempt_at=next_at
    )
    if final:
        _forget_code(msg)
    if exc.invalid_recipient and msg.pensioner_id is not None:
        # Only the pensioner's own number: a rejected relative's number says nothing about it.
        if Pensioner.objects.filter(pk=msg.pensioner_id, phone=msg.recipient).exists():
            pensioner_set_phone_invalid(pensioner_id=msg.pensioner_id, invalid=True,
                                        reason=f"短信网关拒收：{str(exc)[:100]}")
    log.info("outbox message %s %s: %s", msg.pk, status, exc)
    return status


# Batch of 200: measured 1.6 s per drain with the file transport on PostgreSQL (busy
# 2-core dev box: 3 statements per row); against a gateway at ~50 ms a send it is
# ~12 s, well inside the 60 s beat period. A full batch chains the next one.
DRAIN_BATCH = 200
# A row claimed longer ago than this belongs to a worker that died mid-send.
STALE_CLAIM = dt.timedelta(minutes=10)


def outbox_drain(*, now: dt.datetime | None = None, limit: int | None = None) -> dict[str, int]:
    """Send what is due, oldest first, bounded. Safe to run from several workers at once."""
    now = now or timezone.now()
    limit = limit or DRAIN_BATCH
    # At-least-once: a worker killed after the gateway accepted but before we wrote
    # `sent` means a possible duplicate SMS, which beats a lost one.
    stale = Message.objects.filter(status=Message.Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=Message.Status.FAILED, last_error="发送中断，重新排队", next_attempt_at=now
    )
    counts = {"stale_requeued": stale, "sent": 0, "failed": 0, "permanently_failed": 0, "skipped": 0}
    due = Message.objects.filter(status__in=WAITING, next_attempt_at__lte=now)
    if quiet.is_quiet(now):
        counts["quiet"] = 1
        due = due.filter(template__in=quiet.IMMEDIATE_TEMPLATES)  # sign-in codes go out at night too
    ids = list(
        due
        .order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit]
    )
    for message_id in ids:
        outcome = outbox_send(message_id=message_id, now=now)
        counts[outcome if outcome in counts else "skipped"] += 1
    return counts


def notify_proxy_certification(*, certification_id: int) -> None:
    """SMS to the pensioner saying who certified them on their behalf (DESIGN §5).

    Idempotent on the certification id: the face flow may call this and the nightly
    scheduler may see the same row; one SMS either way.
    """
    cert = Certification.objects.select_related("pensioner", "helper").get(pk=certification_id)
    p = cert.pensioner
    helper = cert.helper
    # Chinese order: family name first, no space.
    # A relative typed their own name: only a plain name goes into this official SMS, anything
    # else (a link, a phone number, a sentence) is replaced by the neutral wording (issue 13).
    helper_name = names.for_sms(f"{helper.last_name}{helper.first_name}", "您的亲属") if helper else "您的亲属"
    outbox_enqueue(
        phone=p.phone, template="proxy_certified", pensioner_id=p.pk,
        dedup_key=f"proxy-certified:{cert.pk}",
        context={"name": p.name, "helper": helper_name, "relationship": names.relationship_for_sms(cert.helper_relationship),
                 "date": texts.cn_date(cert.occurred_on)},
    )
