"""The evidence log a pensioner sees (DESIGN §4 `evidence`, §5 "which sources confirmed them").

Every matched qualifying record dated in (today − 12 months, today], not only the one
that moved `valid_until`. Records dated after a recorded death are left out: they
are never a certification (DESIGN §1), whichever order they arrived in.

The big-data tables are read through the app registry, not imported: the core must
not depend on the big-data leaf (.importlinter), and this is one read, not a write.
"""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.db.models import QuerySet

from . import idnumber, rules
from .models import Certification, Pensioner

QUALIFYING = "qualifying"


def window_start(today: dt.date) -> dt.date:
    """The window is (today − 12 months, today]: this date itself is outside it (DESIGN §4, §5)."""
    return rules.add_months(today, -12)


def evidence_log(pensioner: Pensioner, *, today: dt.date) -> list[dict[str, str]]:
    """[{"source", "event_date"}], newest first, one entry per source and day.

    Two transit rides on one day are one line for the person; the staff page and the
    feeds keep every record.
    """
    if not apps.is_installed("bigdata"):
        return []
    evidence = apps.get_model("bigdata", "Evidence")
    qs = evidence.objects.filter(
        # The person's partition only (docs/scale.md §2): the rows linked to them carry
        # their ID number, so their bucket; the planner prunes the other partitions.
        bucket=idnumber.bucket_of(pensioner.id_number),
        pensioner_id=pensioner.pk,
        source__kind=QUALIFYING,
        event_date__gt=window_start(today),
        event_date__lte=today,
    )
    if pensioner.death_date:
        qs = qs.filter(event_date__lte=pensioner.death_date)
    rows = qs.values_list("source__code", "event_date").distinct().order_by("-event_date", "source__code")
    return [{"source": code, "event_date": day.isoformat()} for code, day in rows]


def live_certifications(pensioner: Pensioner, limit: int | None = None) -> QuerySet[Certification]:
    """The pensioner's own history, newest first, without voided certifications.

    DESIGN §1: a certification voided by a later death record is kept and shown to
    staff (certification_history), never to the person or in show_pensioner.
    """
    qs = pensioner.certifications.filter(voided_at__isnull=True).select_related("helper").order_by("-occurred_on", "-id")
    return qs[:limit] if limit else qs
