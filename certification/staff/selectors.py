"""Reads for the warning queue. Scope always comes from certification.selectors."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse

from certification import rules
from certification.models import PUBLIC_KEY_LENGTH, Pensioner, StreetOffice, User
from certification.rules import Status
from certification.selectors import offices_for, pensioners_visible_to
from notifications.models import Message

from .models import DeathReport, HomeVisit, HomeVisitRequest

QUEUE_STATUSES = (Status.WARNING, Status.SUSPENDED)
# What counts as a reminder in the "reminders sent" column.
REMINDER_TEMPLATES = ("warning_entered", "warning_entered_relative", "warning_reminder", "suspension_soon",
                      "suspended", "staff_message")
NO_CONTACT = "none"


@dataclass(frozen=True)
class QueueFilters:
    community: int | None = None
    status: str = ""
    special_group: str | None = None  # "" means "none"; None means no filter
    outcome: str = ""  # a CallOutcome value, or NO_CONTACT
    phone_invalid: bool = False
    face_exhausted: bool = False
    office: int | None = None


def _office_ids(user: User) -> list[int]:
    # Materialised once per request (memoised on the user object, which lives for one
    # request): `street_office_id IN (1 id)` lets PostgreSQL walk the partial queue
    # index in valid_until order instead of sorting the office.
    ids = getattr(user, "_queue_office_ids", None)
    if ids is None:
        ids = list(offices_for(user).values_list("id", flat=True))
        user._queue_office_ids = ids  # type: ignore[attr-defined]
    return ids


def queue(user: User, filters: QueueFilters | None = None, *, today: dt.date | None = None) -> QuerySet[Pensioner]:
    """The user's offices' warning + suspended people, soonest suspension first.

    Ordered by valid_until: days until suspension is a monotone function of it
    (rules.suspension_date), so the database can sort on the indexed column.
    """
    f = filters or QueueFilters()
    today = today or rules.today_local()
    offices = _office_ids(user)
    if f.office is not None:
        offices = [o for o in offices if o == f.office]
    qs = Pensioner.objects.filter(street_office_id__in=offices, status__in=QUEUE_STATUSES)
    if f.status in QUEUE_STATUSES:
        qs = qs.filter(status=f.status)
    if f.community is not None:
        qs = qs.filter(community_id=f.community)
    if f.special_group is not None:
        qs = qs.filter(special_group=f.special_group)
    if f.outcome == NO_CONTACT:
        qs = qs.filter(queue_state__isnull=True)
    elif f.outcome:
        qs = qs.filter(queue_state__last_outcome=f.outcome)
    if f.phone_invalid:
        qs = qs.filter(phone_invalid=True)
    if f.face_exhausted:
        qs = qs.filter(face_attempts_exhausted_on=today)
    return qs.select_related("community", "street_office", "queue_state").order_by("valid_until", "id")


@dataclass(frozen=True)
class QueueRow:
    pensioner: Pensioner
    age: int
    days_left: int
    reminders_sent: int
    last_contact_at: dt.datetime | None
    last_outcome: str
    last_outcome_label: str
    url: str = ""


def queue_rows(pensioners: list[Pensioner], *, today: dt.date) -> list[QueueRow]:
    """Decorate one page of the queue: one extra query for the reminder counts."""
    ids = [p.pk for p in pensioners]
    since = {p.pk: p.valid_until for p in pensioners}
    counts: Counter[int] = Counter()
    for pid, created in Message.objects.filter(
        pensioner_id__in=ids, status=Message.Status.SENT, template__in=REMINDER_TEMPLATES
    ).values_list("pensioner_id", "created_at"):
        # Only this warning period's reminders: sent after validity ran out.
        if created.date() > since[pid]:
            counts[pid] += 1
    # One reverse() per page, not one {% url %} per row (it was a third of the render time).
    placeholder = "0" * PUBLIC_KEY_LENGTH
    url_template = reverse("staff:pensioner", args=[placeholder]).replace(f"/{placeholder}/", "/{}/")
    rows = []
    for p in pensioners:
        state = getattr(p, "queue_state", None)
        rows.append(QueueRow(
            pensioner=p,
            age=rules.age_on(p.birth_date, today),
            days_left=rules.days_until_suspension(p.valid_until, today),
            reminders_sent=counts[p.pk],
            last_contact_at=state.last_contact_at if state else None,
            last_outcome=state.last_outcome if state else "",
            last_outcome_label=state.get_last_outcome_display() if state else "",
            url=url_template.format(p.public_key),
        ))
    return rows


def offices_with_communities(user: User) -> QuerySet[StreetOffice]:
    return offices_for(user).prefetch_related("communities").select_related("district")


def pending_visit_requests(user: User) -> QuerySet[HomeVisitRequest]:
    return (HomeVisitRequest.objects.filter(state=HomeVisitRequest.State.PENDING,
                                            pensioner__street_office_id__in=_office_ids(user))
            .select_related("pensioner").order_by("created_at", "id"))


def pending_death_reports(user: User) -> QuerySet[DeathReport]:
    return (DeathReport.objects.filter(state=DeathReport.State.PENDING,
                                       pensioner__street_office_id__in=_office_ids(user))
            .select_related("pensioner", "reported_by").order_by("created_at", "id"))


def visit_for_staff(user: User, pk: int) -> HomeVisit:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(HomeVisit.objects.select_related("pensioner"), pk=_safe_pk(pk),
                             pensioner__in=pensioners_visible_to(user))


def death_report_for_staff(user: User, pk: int) -> DeathReport:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(DeathReport.objects.select_related("pensioner"), pk=_safe_pk(pk),
                             pensioner__in=pensioners_visible_to(user))


def visit_request_for_staff(user: User, pk: int) -> HomeVisitRequest:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(HomeVisitRequest.objects.select_related("pensioner"), pk=_safe_pk(pk),
                             pensioner__in=pensioners_visible_to(user))


def _safe_pk(pk: int) -> int:
    # A fuzzed 30-digit id would overflow bigint in PostgreSQL (a 500); it cannot exist.
    from django.http import Http404

    if not 0 < int(pk) < 2**63:
        raise Http404
    return int(pk)


def appointments_for(pensioner: Pensioner) -> dict[str, object]:
    """What the pensioner's home page shows: upcoming visits and an open request."""
    today = rules.today_local()
    visits = list(HomeVisit.objects.filter(pensioner=pensioner, outcome=HomeVisit.Outcome.SCHEDULED,
                                           visit_on__gte=today).order_by("visit_on"))
    pending = HomeVisitRequest.objects.filter(pensioner=pensioner, state=HomeVisitRequest.State.PENDING).first()
    return {"visits": visits, "pending_request": pending}
