"""The street office's case list (DESIGN §5): appeals, death records to verify or in
conflict, fraud alerts and revocations awaiting a second person, in one list.

Scope: every read filters on the caller's offices (certification.selectors.offices_for),
so another office's case is a 404 and administrators see all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import CharField, DateField, F, QuerySet, Value
from django.db.models.functions import Cast, TruncDate
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bigdata.models import DeathRecord, FraudAlert
from certification.models import Pensioner, StreetOffice, User
from certification.selectors import offices_for

from .models import Appeal, CaseKind, Revocation
from .rules import add_working_days, overdue_opened_before
from .workdays import work_calendar

KINDS = CaseKind.values
STATE_LABELS = {"open": _("处理中"), "pending": _("待第二人确认"), "verify": _("待核实"), "conflict": _("冲突待核实")}


def _scoped(qs: QuerySet, user: User) -> QuerySet:
    if user.is_portal_admin:
        return qs
    return qs.filter(pensioner__street_office__in=offices_for(user))


def _shape(qs: QuerySet, kind: str, *, opened: object, due: object, state: object) -> QuerySet:
    return qs.annotate(
        case_kind=Value(kind, output_field=CharField()), case_opened=opened, case_due=due,
        case_state=state, case_office=F("pensioner__street_office_id"),
    ).values("id", "case_kind", "pensioner_id", "case_office", "case_opened", "case_due", "case_state").order_by()


def _open_querysets(user: User, kinds: Iterable[str]) -> list[QuerySet]:
    tz = timezone.get_current_timezone()
    parts = []
    for kind in kinds:
        if kind == CaseKind.APPEAL:
            qs = _shape(Appeal.objects.filter(state=Appeal.State.OPEN), kind, opened=F("opened_on"),
                        due=F("due_on"), state=F("state"))
        elif kind == CaseKind.REVOCATION:
            qs = _shape(Revocation.objects.filter(state=Revocation.State.PENDING), kind, opened=F("opened_on"),
                        due=F("due_on"), state=F("state"))
        elif kind in (CaseKind.DEATH_VERIFY, CaseKind.DEATH_CONFLICT):
            state = DeathRecord.State.VERIFY if kind == CaseKind.DEATH_VERIFY else DeathRecord.State.CONFLICT
            qs = _shape(DeathRecord.objects.filter(state=state), kind, opened=F("opened_on"), due=F("due_on"),
                        state=F("state"))
        elif kind == CaseKind.FRAUD_ALERT:
            # A fraud alert has no stored deadline: it is computed from its opening day below.
            qs = _shape(FraudAlert.objects.filter(state=FraudAlert.State.OPEN), kind,
                        opened=TruncDate("created_at", tzinfo=tz),
                        due=Cast(Value(None), output_field=DateField()), state=F("state"))
        else:
            continue
        parts.append(_scoped(qs, user))
    return parts


@dataclass
class CaseRow:
    id: int
    kind: str
    pensioner: Pensioner
    opened_on: dt.date
    due_on: dt.date
    state: str
    overdue: bool

    @property
    def kind_label(self) -> str:
        return str(CaseKind(self.kind).label)

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS.get(self.state, self.state))


def cases_for(user: User, *, kind: str = "") -> QuerySet:
    """Open cases in the caller's offices, oldest first (the union of the five kinds, as dicts)."""
    parts = _open_querysets(user, [kind] if kind else KINDS)
    if not parts:
        return Appeal.objects.none().values("id")
    qs = parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], all=True)
    return qs.order_by("case_opened", "case_kind", "id")


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def case_rows(raw: Iterable[dict], *, today: dt.date) -> list[CaseRow]:
    """Dicts from cases_for → rows with their pensioner, due date and overdue flag (one query for the people)."""
    raw = list(raw)
    people = Pensioner.objects.select_related("street_office").in_bulk({r["pensioner_id"] for r in raw})
    n = settings.CASE_ANSWER_WORKING_DAYS
    calendar = work_calendar()
    rows = []
    for r in raw:
        opened = _as_date(r["case_opened"])
        due = _as_date(r["case_due"]) if r["case_due"] else add_working_days(opened, n, calendar)
        rows.append(CaseRow(id=r["id"], kind=r["case_kind"], pensioner=people[r["pensioner_id"]], opened_on=opened,
                            due_on=due, state=r["case_state"], overdue=due < today))
    return rows


def case_counts(user: User, *, today: dt.date) -> dict[str, dict[str, int]]:
    """{kind: {"open", "overdue"}} for the staff home."""
    cutoff = overdue_opened_before(today, settings.CASE_ANSWER_WORKING_DAYS, work_calendar())
    counts: dict[str, dict[str, int]] = {}
    for kind, qs in zip(KINDS, _open_querysets(user, KINDS), strict=True):
        rows = list(qs.values_list("case_opened", "case_due"))
        overdue = sum(1 for opened, due in rows
                      if (_as_date(due) < today if due else _as_date(opened) < cutoff))
        counts[kind] = {"open": len(rows), "overdue": overdue}
    return counts


def count_rows(counts: dict[str, dict[str, int]]) -> list[dict[str, object]]:
    return [{"kind": k, "label": CaseKind(k).label, **counts[k]} for k in KINDS]


@dataclass
class OfficeCases:
    office: StreetOffice
    open: int
    overdue: int


def cases_by_office(user: User, *, today: dt.date) -> list[OfficeCases]:
    """The dashboard panel: open and overdue cases per street office (offices with none left out)."""
    cutoff = overdue_opened_before(today, settings.CASE_ANSWER_WORKING_DAYS, work_calendar())
    tally: dict[int, list[int]] = {}
    for qs in _open_querysets(user, KINDS):
        for office_id, opened, due in qs.values_list("case_office", "case_opened", "case_due"):
            late = _as_date(due) < today if due else _as_date(opened) < cutoff
            t = tally.setdefault(office_id, [0, 0])
            t[0] += 1
            t[1] += int(late)
    offices = StreetOffice.objects.select_related("district").in_bulk(list(tally))
    rows = [OfficeCases(offices[k], v[0], v[1]) for k, v in tally.items()]
    return sorted(rows, key=lambda r: (-r.overdue, -r.open, r.office.district.code, r.office.name))


# ---- scoped look-ups: another office's case is a 404 ---------------------------------

def _one(qs: QuerySet, user: User, pk: int):  # type: ignore[no-untyped-def]
    if not 0 < pk < 2**63:
        raise Http404
    try:
        return _scoped(qs, user).select_related("pensioner__street_office").get(pk=pk)
    except qs.model.DoesNotExist:
        raise Http404("未找到该案件") from None


def appeal_for_staff(user: User, pk: int) -> Appeal:
    return _one(Appeal.objects.all(), user, pk)


def revocation_for_staff(user: User, pk: int) -> Revocation:
    return _one(Revocation.objects.select_related("recorded_by", "confirmed_by"), user, pk)


def death_record_for_staff(user: User, pk: int) -> DeathRecord:
    return _one(DeathRecord.objects.all(), user, pk)


def fraud_alert_for_staff(user: User, pk: int) -> FraudAlert:
    return _one(FraudAlert.objects.all(), user, pk)


def appeals_of(pensioner: Pensioner, limit: int = 5) -> QuerySet[Appeal]:
    return Appeal.objects.filter(pensioner=pensioner).order_by("-opened_on", "-id")[:limit]


def pensioner_cases(pensioner: Pensioner) -> dict[str, object]:
    """What the staff detail page shows of a person's cases and death lifecycle."""
    return {
        "appeals": list(Appeal.objects.filter(pensioner=pensioner).order_by("-opened_on", "-id")[:5]),
        "death_records": list(DeathRecord.objects.filter(pensioner=pensioner).order_by("-opened_on", "-id")[:5]),
        "revocations": list(Revocation.objects.filter(pensioner=pensioner)
                            .select_related("recorded_by", "confirmed_by").order_by("-opened_on", "-id")[:5]),
    }

