"""Every figure in the snapshot equals a plain-Python recomputation over the rows.

The recomputation walks model objects one by one with the rule functions, the
slow obvious way, for each street office, each district and the city.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest

from bigdata.models import Evidence
from certification import rules
from certification.dashboards.models import Figure, Level, Snapshot
from certification.dashboards.services import snapshot_build
from certification.models import (
    BackPay,
    Certification,
    Overpayment,
    Pensioner,
    StatusChange,
    StreetOffice,
)

from .population import TODAY, build_population

pytestmark = pytest.mark.django_db


def _months(today: dt.date) -> list[dt.date]:
    first = today.replace(day=1)
    return [rules.add_months(first, -i) for i in range(11, -1, -1)]


def direct(in_scope: Callable[[Pensioner], bool], today: dt.date) -> dict[tuple[str, str], Decimal]:
    people = {p.pk: p for p in Pensioner.objects.all() if in_scope(p)}
    certs = [c for c in Certification.objects.all() if c.pensioner_id in people]
    changes = [s for s in StatusChange.objects.all() if s.pensioner_id in people]
    start = rules.add_months(today, -12)
    out: Counter[tuple[str, str]] = Counter()

    evidence = [(e.pensioner_id, e.event_date) for e in Evidence.objects.select_related("source")
                if e.pensioner_id in people and e.source.kind == "qualifying"]

    def silent(at: dt.date) -> tuple[int, int]:
        # DESIGN §5: matched qualifying evidence inside the window, not big-data certification rows.
        lo = rules.add_months(at, -12)
        den = [p for p in people.values() if p.enrolled_on <= lo and (p.death_date is None or p.death_date > at)]
        hit = {pid for pid, day in evidence if lo < day <= at}
        return sum(1 for p in den if p.pk in hit), len(den)

    num, den = silent(today)
    out["silent", "numerator"] += num
    out["silent", "denominator"] += den
    for m in _months(today):
        at = min(rules.add_months(m, 1) - dt.timedelta(days=1), today)
        num, den = silent(at)
        out["trend", f"{m:%Y-%m}|silent_num"] += num
        out["trend", f"{m:%Y-%m}|silent_den"] += den
    for p in people.values():
        out["status", p.status] += 1
        if p.status in ("warning", "suspended"):
            out["queue", p.status] += 1
            out["queue", "total"] += 1
            if p.face_attempts_exhausted_on:
                out["queue", "face_exhausted"] += 1
        if p.status == "suspended":
            out["money", "suspended_now"] += 1
            out["money", "suspended_monthly"] += p.monthly_amount
        if p.death_date and start < p.death_date <= today:
            out["money", "deaths_12m"] += 1
    first_month = _months(today)[0]
    for c in certs:
        if first_month <= c.occurred_on <= today:
            out["channel", f"{c.occurred_on:%Y-%m}|{c.method}"] += 1
        if start < c.occurred_on <= today:
            out["channel_total", c.method] += 1
    sources_of: dict[int, set[str]] = {}
    for c in certs:
        if c.method == "big_data" and start < c.occurred_on <= today:
            sources_of.setdefault(c.pensioner_id, set()).add(c.source)
    for srcs in sources_of.values():
        for s in srcs:
            out["source", f"{s}|confirmed"] += 1
        if len(srcs) == 1:
            out["source", f"{next(iter(srcs))}|alone"] += 1
    for s in changes:
        if first_month <= s.effective_on <= today:
            m = f"{s.effective_on:%Y-%m}"
            if s.old_status == "active" and s.new_status == "warning":
                out["trend", f"{m}|warnings"] += 1
            if s.new_status == "suspended":
                out["trend", f"{m}|suspensions"] += 1
            if s.old_status == "suspended" and s.new_status in ("active", "warning"):
                out["trend", f"{m}|restorations"] += 1
        if s.new_status == "suspended" and start < s.effective_on <= today:
            out["money", "suspensions_12m"] += 1
    for b in BackPay.objects.all():
        if b.pensioner_id in people and start < b.restored_on <= today:
            out["money", "backpay_count_12m"] += 1
            out["money", "backpay_total_12m"] += b.total
            if b.paid_on:
                out["money", "backpay_paid_12m"] += b.total
    for o in Overpayment.objects.all():
        if o.pensioner_id in people and o.state == "open":
            out["money", "overpay_open"] += 1
            out["money", "overpay_open_total"] += o.total
    return {k: Decimal(v) for k, v in out.items() if v}


def stored(level: str, scope_id: int) -> dict[tuple[str, str], Decimal]:
    snap = Snapshot.objects.get(day=TODAY)
    rows = Figure.objects.filter(snapshot=snap, level=level, scope_id=scope_id)
    return {(f.metric, f.key): f.value for f in rows if f.value}


@pytest.fixture
def population():  # type: ignore[no-untyped-def]
    people = build_population()
    snapshot_build(today=TODAY)
    return people


def test_population_exercises_every_panel(population):
    statuses = {p.status for p in population}
    assert statuses == {"active", "warning", "suspended", "deceased"}
    assert BackPay.objects.exists() and Overpayment.objects.exists()
    assert Certification.objects.filter(method="big_data").values("source").distinct().count() >= 4
    assert StatusChange.objects.filter(old_status="suspended").exists()


def test_every_office_figure_equals_the_direct_recomputation(population):
    for office in StreetOffice.objects.filter(pensioners__isnull=False).distinct():
        assert stored(Level.OFFICE, office.pk) == direct(lambda p, o=office: p.street_office_id == o.pk, TODAY), office


def test_every_district_figure_equals_the_direct_recomputation(population):
    districts = {o.district_id for o in StreetOffice.objects.filter(pensioners__isnull=False)}
    assert len(districts) == 2
    for d in districts:
        expected = direct(lambda p, d=d: p.street_office.district_id == d, TODAY)
        assert stored(Level.DISTRICT, d) == expected


def test_every_city_figure_equals_the_direct_recomputation(population):
    expected = direct(lambda p: True, TODAY)
    assert expected["silent", "denominator"] > expected["silent", "numerator"] > 0
    assert stored(Level.CITY, 0) == expected


def test_rebuilding_the_same_day_replaces_rather_than_doubles(population):
    before = stored(Level.CITY, 0)
    result = snapshot_build(today=TODAY)
    assert Snapshot.objects.filter(day=TODAY).count() == 1
    assert stored(Level.CITY, 0) == before
    assert result["rows"] == Figure.objects.count()
