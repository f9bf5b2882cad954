"""Old evidence that extends validity but leaves the person suspended or in warning (DESIGN §2;
issue 9 finding 4): the suspension date moves, and the months whose 1st the new date covers are back-paid."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bigdata.matching import matching_run
from bigdata.services import evidence_import, source_get
from certification.models import BackPayLine, StatusChange
from tests.bigdata.conftest import make_id
from tests.factories import PensionerFactory

pytestmark = pytest.mark.django_db
D = dt.date
TODAY = D(2026, 10, 10)


def _suspended(n: int):  # type: ignore[no-untyped-def]
    # valid until 31 Jan: warning to 30 Apr, suspended since 1 May (not paid May–October).
    return PensionerFactory(id_number=make_id(n), valid_until=D(2026, 1, 31), status="suspended",
                            suspended_since=D(2026, 5, 1), monthly_amount=Decimal("3100.00"))


def _hospital(feed, p, day: str, ref: str) -> None:  # type: ignore[no-untyped-def]
    evidence_import(path=feed([(p.id_number, day, ref)]), source=source_get("hospital"), today=TODAY)


def test_old_evidence_that_leaves_the_person_suspended_moves_the_suspension_and_back_pays_the_covered_months(feed):
    p = _suspended(930)
    _hospital(feed, p, "2025-03-15", "OLD-1")  # valid until 15 Mar 2026: warning to 15 Jun

    out = matching_run(today=TODAY)

    p.refresh_from_db()
    assert (out["extended"], out["restored"]) == (1, 0)
    assert (p.status, p.valid_until, p.suspended_since) == ("suspended", D(2026, 3, 15), D(2026, 6, 16))
    lines = BackPayLine.objects.filter(pensioner=p).order_by("month")
    assert [(ln.month, ln.amount) for ln in lines] == [(D(2026, 5, 1), Decimal("3100.00")),
                                                       (D(2026, 6, 1), Decimal("3100.00"))]
    assert not StatusChange.objects.filter(pensioner=p).exists()  # still suspended: no status change
    # Later evidence covering today restores the rest, without paying May or June again.
    _hospital(feed, p, "2026-10-01", "NEW-1")
    matching_run(today=TODAY + dt.timedelta(days=1))
    months = sorted(BackPayLine.objects.filter(pensioner=p).values_list("month", flat=True))
    assert months == [D(2026, m, 1) for m in range(5, 11)]


def test_old_evidence_that_leaves_the_person_in_warning_back_pays_every_month_up_to_today(feed):
    p = _suspended(931)
    _hospital(feed, p, "2025-08-20", "OLD-2")  # valid until 20 Aug 2026: warning to 20 Nov

    out = matching_run(today=TODAY)

    p.refresh_from_db()
    assert out["restored"] == 1
    assert (p.status, p.suspended_since) == ("warning", None)
    assert sorted(BackPayLine.objects.filter(pensioner=p).values_list("month", flat=True)) == [
        D(2026, m, 1) for m in range(5, 11)]
    change = StatusChange.objects.get(pensioner=p)
    assert (change.old_status, change.new_status) == ("suspended", "warning")
