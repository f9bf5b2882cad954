"""Nightly reminder scheduling: what is due today becomes outbox rows (DESIGN §4 run_nightly step 3).

Events come from rows, never inline (STYLE §3). Status changes (entering warning,
suspension, restoration with its back-pay) are *claimed* from StatusChange rows with a
conditional UPDATE on processed_at, as healthchecks claims its Flip rows, and their
messages are enqueued in the same transaction: however many nights were missed,
every event is sent exactly once, and a crash in between claims nothing.
Certification rows not yet announced drive the proxy and big-data success messages.
Date-driven reminders (every 30 days in warning, 7 days before suspension) select
pensioners by the indexed valid_until column with dates computed by certification.rules,
so the rule has one home; they catch up until the next reminder is due.

Every message also has a dedup key, so a re-run sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Count, Exists, OuterRef, QuerySet, Sum, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from certification import rules
from certification.models import BackPayLine, Certification, Method, Pensioner, StatusChange
from certification.rules import Status

from .models import Message, ScheduleRun
from .services import OutboxItem, outbox_enqueue_many
from .texts import cn_date

# Certification messages (proxy, big-data success) are made for the certifications not yet
# announced since the previous night that ran (ScheduleRun), however many nights were missed,
# with this margin (and at least this many nights without a previous run); date-driven
# reminders catch up until the next one is due (below); status-change events are claimed.
CATCH_UP_DAYS = 3

# Status-change rows claimed per transaction. Bounded so one claim's locks and outbox
# insert stay short; a backlog is walked by id in several claims.
CLAIM_BATCH = 5000

_P_FIELDS = ("id", "name", "phone", "phone_invalid", "relative_phone", "valid_until", "suspended_since",
             "street_office__name")


def _reachable(qs: QuerySet[Pensioner]) -> QuerySet[Pensioner]:
    # A phone the gateway rejected is not tried again; staff see "phone invalid" in the queue.
    return qs.exclude(phone="").filter(phone_invalid=False)


def _office(p: Pensioner) -> str:
    return f"{p.street_office.name}" if p.street_office_id else "街道"


def _pensioner_context(p: Pensioner, today: dt.date) -> dict[str, Any]:
    suspend_on = rules.suspension_date(p.valid_until)
    return {
        "name": p.name,
        "valid_until": cn_date(p.valid_until),
        "suspend_on": cn_date(suspend_on),
        "days_left": max((suspend_on - today).days, 0),
        "office": _office(p),
    }


def _entered_warning(changes: list[StatusChange], today: dt.date) -> Iterator[OutboxItem]:
    ids = [c.pensioner_id for c in changes if (c.old_status, c.new_status) == (Status.ACTIVE, Status.WARNING)]
    people = Pensioner.objects.filter(id__in=ids, status=Status.WARNING).select_related("street_office")
    for p in people.iterator(chunk_size=1000):
        ctx = _pensioner_context(p, today)
        if p.phone and not p.phone_invalid:
            yield OutboxItem(phone=p.phone, template="warning_entered", context=ctx, pensioner_id=p.pk,
                             dedup_key=f"warning-entered:{p.pk}:{p.valid_until}")
        if p.relative_phone:
            yield OutboxItem(phone=p.relative_phone, template="warning_entered_relative", context=ctx,
                             pensioner_id=p.pk, dedup_key=f"warning-entered-relative:{p.pk}:{p.valid_until}")


def _warning_every_n_days(today: dt.date) -> Iterator[OutboxItem]:
    """Day 1 of warning is valid_until + 1; a reminder on days 1+N, 1+2N … (with catch-up)."""
    every = settings.CERT_REMINDER_EVERY_DAYS
    floor = rules.earliest_unsuspended_valid_until(today)
    by_date: dict[dt.date, int] = {}
    for k in range(1, 1000):
        newest = today - dt.timedelta(days=1 + k * every)
        if newest < floor:
            break
        # Caught up until the next reminder is due (not a 3-night window): drill 7 stopped the
        # job 5 nights and the reminders of the first 2 were lost. Dedup keys stop a resend.
        for late in range(every):
            by_date[newest - dt.timedelta(days=late)] = k
    if not by_date:
        return
    people = _reachable(Pensioner.objects.filter(status=Status.WARNING, valid_until__in=list(by_date)))
    for p in people.select_related("street_office").iterator(chunk_size=1000):
        k = by_date[p.valid_until]
        yield OutboxItem(phone=p.phone, template="warning_reminder", context=_pensioner_context(p, today),
                         pensioner_id=p.pk, dedup_key=f"warning-reminder:{p.pk}:{p.valid_until}:{k}")


def _before_suspension(today: dt.date) -> Iterator[OutboxItem]:
    days = settings.CERT_REMINDER_BEFORE_SUSPENSION_DAYS
    floor = rules.earliest_unsuspended_valid_until(today)
    # Every valid_until whose suspension is 1..days days away: a notice missed while the job
    # was stopped is sent late rather than never (drill 7); the dedup key sends it once.
    dates = [
        floor + dt.timedelta(days=i) for i in range(0, 40)
        if 1 <= rules.days_until_suspension(floor + dt.timedelta(days=i), today) <= days
    ]
    if not dates:
        return
    people = _reachable(Pensioner.objects.filter(status=Status.WARNING, valid_until__in=dates))
    for p in people.select_related("street_office").iterator(chunk_size=1000):
        yield OutboxItem(phone=p.phone, template="suspension_soon", context=_pensioner_context(p, today),
                         pensioner_id=p.pk, dedup_key=f"suspension-soon:{p.pk}:{p.valid_until}")


def _suspended(changes: list[StatusChange], today: dt.date) -> Iterator[OutboxItem]:
    ids = [c.pensioner_id for c in changes if c.new_status == Status.SUSPENDED and c.old_status != Status.SUSPENDED]
    people = _reachable(Pensioner.objects.filter(id__in=ids, status=Status.SUSPENDED))
    for p in people.select_related("street_office").iterator(chunk_size=1000):
        since = p.suspended_since or rules.suspension_date(p.valid_until)
        ctx = {**_pensioner_context(p, today), "suspended_since": cn_date(since)}
        yield OutboxItem(phone=p.phone, template="suspended", context=ctx, pensioner_id=p.pk,
                         dedup_key=f"suspended:{p.pk}:{since}")


def _restored(changes: list[StatusChange], today: dt.date) -> Iterator[OutboxItem]:
    """Payment restored: the back-pay the same change wrote (certification.effects) goes in the text."""
    restored = {c.pensioner_id: c for c in changes
                if c.old_status == Status.SUSPENDED and c.new_status in (Status.ACTIVE, Status.WARNING)}
    if not restored:
        return
    owed = {
        (r["pensioner_id"], r["back_pay__restored_on"]): (r["total"] or Decimal(0), r["months"])
        for r in BackPayLine.objects.filter(pensioner_id__in=list(restored))
        .values("pensioner_id", "back_pay__restored_on").annotate(total=Sum("amount"), months=Count("id"))
    }
    for p in _reachable(Pensioner.objects.filter(id__in=list(restored))).iterator(chunk_size=1000):
        change = restored[p.pk]
        total, months = owed.get((p.pk, change.effective_on), (Decimal(0), 0))
        yield OutboxItem(
            phone=p.phone, template="restored", pensioner_id=p.pk, dedup_key=f"restored:{change.pk}",
            context={"name": p.name, "back_pay": f"{total:.2f}", "months": months},
        )


def _since(today: dt.date) -> dt.datetime:
    """Where certification messages are looked for: from the previous night that ran (less
    CATCH_UP_DAYS, for certifications recorded around it), however long ago; the last
    CATCH_UP_DAYS nights without one; at most one cycle back (an older certification is not
    news). By the nights' dates, the clock the nightly job runs on (`--today`)."""
    last = ScheduleRun.objects.filter(day__lt=today).order_by("-day").values_list("day", flat=True).first()
    start = min(today, last or today) - dt.timedelta(days=CATCH_UP_DAYS)
    start = max(start, rules.add_months(today, -rules.cycle_months()))
    return timezone.make_aware(dt.datetime.combine(start, dt.time.min))


def _unannounced(today: dt.date, method: str) -> QuerySet[Certification]:
    """Certifications by `method` since the previous night that ran whose message was not yet
    enqueued (issue 15: with a fixed 3-night window over recorded_at, a longer stop lost the
    success SMS of everyone certified during it)."""
    certs = Certification.objects.filter(method=method, recorded_at__gte=_since(today))
    if method == Method.BIG_DATA:  # one per person: any success SMS made since this certification was recorded
        sent = Message.objects.filter(pensioner_id=OuterRef("pensioner_id"), template="big_data_certified",
                                      created_at__gte=OuterRef("recorded_at"))
    else:  # one per certification, the key notify_proxy_certification uses too
        sent = Message.objects.filter(dedup_key=Concat(Value("proxy-certified:"), Cast(OuterRef("pk"), CharField())))
    return certs.exclude(Exists(sent)).select_related("pensioner", "helper")


def _proxy(today: dt.date) -> Iterator[OutboxItem]:
    for cert in _unannounced(today, Method.FACE_PROXY).iterator(chunk_size=1000):
        p, helper = cert.pensioner, cert.helper
        if not p.phone or p.phone_invalid:
            continue
        name = (f"{helper.last_name}{helper.first_name}".strip() or helper.username) if helper else "您的亲属"
        yield OutboxItem(
            phone=p.phone, template="proxy_certified", pensioner_id=p.pk,
            dedup_key=f"proxy-certified:{cert.pk}",  # the same key notify_proxy_certification uses
            context={"name": p.name, "helper": name, "relationship": cert.helper_relationship or "亲属",
                     "date": cn_date(cert.occurred_on)},
        )


def _big_data_success(today: dt.date) -> Iterator[OutboxItem]:
    """Silent certification done for the year: at most one SMS per person per year."""
    if not settings.NOTIFY_BIG_DATA_SUCCESS:
        return
    seen: set[int] = set()
    certs = _unannounced(today, Method.BIG_DATA).filter(pensioner__status=Status.ACTIVE)
    for cert in certs.order_by("pensioner_id", "-occurred_on").iterator(chunk_size=2000):
        p = cert.pensioner
        if p.pk in seen or not p.phone or p.phone_invalid:
            continue
        seen.add(p.pk)
        yield OutboxItem(phone=p.phone, template="big_data_certified", pensioner_id=p.pk,
                         dedup_key=f"big-data-certified:{p.pk}:{today.year}",
                         context={"name": p.name, "valid_until": cn_date(p.valid_until)})


# Events claimed from StatusChange rows: each row is looked at once.
CHANGE_EVENTS = {
    "entered_warning": _entered_warning,
    "suspended": _suspended,
    "restored": _restored,
}

# Events read from dates and certification rows (catch-up window + dedup keys).
DATE_EVENTS = {
    "warning_reminder": _warning_every_n_days,
    "suspension_soon": _before_suspension,
    "proxy_certified": _proxy,
    "big_data_certified": _big_data_success,
}

EVENTS = [*CHANGE_EVENTS, *DATE_EVENTS]


def changes_claim(*, today: dt.date, batch: int = CLAIM_BATCH) -> dict[str, int]:
    """Claim the status-change rows nobody has processed, and enqueue their messages, batch by batch.

    The claim is a conditional UPDATE (processed_at IS NULL → now) in the same transaction
    as the outbox insert, so a crash claims nothing, and two schedulers (skip_locked on
    PostgreSQL) never take the same row. Rows whose change sends nothing (a death, say)
    are claimed too, which keeps the unclaimed index small.
    """
    counts = dict.fromkeys(CHANGE_EVENTS, 0)
    last = 0
    while True:
        with transaction.atomic():
            ids = list(StatusChange.objects.filter(processed_at__isnull=True, id__gt=last).order_by("id")
                       .select_for_update(skip_locked=True).values_list("id", flat=True)[:batch])
            if not ids:
                return counts
            last = ids[-1]
            now = timezone.now()
            StatusChange.objects.filter(id__in=ids, processed_at__isnull=True).update(processed_at=now)
            claimed = list(StatusChange.objects.filter(id__in=ids, processed_at=now).order_by("id"))
            for name, build in CHANGE_EVENTS.items():
                counts[name] += outbox_enqueue_many(build(claimed, today))


def schedule_due(*, today: dt.date) -> dict[str, int]:
    """Turn today's events into outbox rows. Returns how many new rows each event made."""
    started = timezone.now()
    counts = changes_claim(today=today)
    for name, build in DATE_EVENTS.items():
        counts[name] = outbox_enqueue_many(build(today))
    # Only a night that finished moves the watermark: a crash looks back to the last good one.
    ScheduleRun.objects.update_or_create(day=today, defaults={"started_at": started})
    return {name: counts[name] for name in EVENTS}
