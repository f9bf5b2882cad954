"""Property: over generated timelines — nights of transitions, roster closings and re-exports,
in-person restorations, old big-data evidence and deaths, in random order — no
(pensioner, month) is ever paid twice, and the months paid (regular plus back-pay) are
exactly the months the rules say (DESIGN §2 payment ledger, issue 9)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, note, settings
from hypothesis import event as seen_in_run
from hypothesis import strategies as st

from certification import rules
from certification.ledger import roster_close
from certification.models import BackPayLine, LedgerEntry, Overpayment, Pensioner
from certification.services import certification_record, pensioner_mark_deceased, transitions_run
from tests.factories import PensionerFactory

pytestmark = pytest.mark.django_db

START = dt.date(2026, 1, 20)
_refs = itertools.count(1)

event = st.one_of(
    st.tuples(st.just("night"), st.integers(0, 2), st.integers(1, 45)),
    st.tuples(st.just("close"), st.integers(0, 2), st.integers(-1, 1)),  # this, last or next month
    st.tuples(st.just("reexport"), st.integers(0, 2), st.integers(0, 20)),
    st.tuples(st.just("counter"), st.integers(0, 2), st.just(0)),
    st.tuples(st.just("old_evidence"), st.integers(0, 2), st.integers(0, 500)),
    st.tuples(st.just("death"), st.integers(0, 2), st.integers(0, 150)),
)


@dataclass
class Seen:
    """What the test saw of one person, to check the ledger against."""

    max_valid_until: dt.date
    death_recorded_on: dt.date | None = None
    paid_before_death: set[dt.date] = field(default_factory=set)


def _paid(pk: int) -> list[dt.date]:
    return list(LedgerEntry.objects.filter(pensioner_id=pk, kind__in=["pay", "back_pay"]).values_list("month", flat=True))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(
    starts=st.lists(st.integers(-330, 120), min_size=3, max_size=3),
    events=st.lists(event, min_size=4, max_size=18),
)
def test_no_month_is_paid_twice_and_the_paid_months_are_the_ones_the_rules_give(starts, events):
    with transaction.atomic():
        people = []
        for offset in starts:
            vu = START + dt.timedelta(days=offset)
            status = rules.status(vu, START)
            people.append(PensionerFactory(
                valid_until=vu, roster_valid_until=vu, status=status, monthly_amount=Decimal("2000.00"),
                suspended_since=rules.suspension_date(vu) if status == "suspended" else None))
        seen = {p.pk: Seen(max_valid_until=p.valid_until) for p in people}
        today = START
        for kind, who, arg in events:
            p = Pensioner.objects.get(pk=people[who].pk)
            if kind == "night":
                today += dt.timedelta(days=arg)
                transitions_run(today=today)
            elif kind == "close":
                month = rules.add_months(rules.month_start(today), arg)
                before = LedgerEntry.objects.filter(roster_month=month).count()
                closing = roster_close(month=month, today=today)
                if not closing.closed_now:  # a closed month is replayed, never reopened
                    assert LedgerEntry.objects.filter(roster_month=month).count() == before
            elif kind == "reexport":
                closed = sorted(LedgerEntry.objects.values_list("roster_month", flat=True).distinct())
                if closed:
                    month = closed[arg % len(closed)]
                    rows = list(LedgerEntry.objects.filter(roster_month=month).values_list("pk", flat=True))
                    assert roster_close(month=month, today=today).closed_now is False
                    assert list(LedgerEntry.objects.filter(roster_month=month).values_list("pk", flat=True)) == rows
            elif p.status == "deceased":
                continue
            elif kind == "counter":
                certification_record(pensioner=p, method="counter", occurred_on=today, today=today)
            elif kind == "old_evidence":
                occurred = today - dt.timedelta(days=arg)
                certification_record(pensioner=p, method="big_data", occurred_on=occurred, today=today,
                                     source="hospital", evidence_ref=f"H-{next(_refs)}")
            elif kind == "death":
                death = max(today - dt.timedelta(days=arg), START - dt.timedelta(days=400))
                seen[p.pk].paid_before_death = set(_paid(p.pk))
                seen[p.pk].death_recorded_on = today
                pensioner_mark_deceased(pensioner=p, death_date=death, today=today, source="death_civil")
            for q in Pensioner.objects.filter(pk__in=seen):
                seen[q.pk].max_valid_until = max(seen[q.pk].max_valid_until, q.valid_until)

        closed = set(LedgerEntry.objects.values_list("roster_month", flat=True).distinct())
        first_closed = min(closed) if closed else None
        # What the generated timelines covered (pytest --hypothesis-show-statistics).
        seen_in_run(f"closed months: {min(len(closed), 3)}+")
        for label, exists in [("back-pay paid by a roster", LedgerEntry.objects.filter(kind="back_pay").exists()),
                              ("back-pay waiting", BackPayLine.objects.filter(paid_in__isnull=True).exists()),
                              ("overpayment", Overpayment.objects.exists())]:
            if exists:
                seen_in_run(label)
        note(f"events {events}")
        for person in people:
            p = Pensioner.objects.get(pk=person.pk)
            paid = _paid(p.pk)
            # 1. Never twice, whatever was re-run or re-exported.
            assert len(paid) == len(set(paid)), Counter(paid).most_common(2)
            lines = list(BackPayLine.objects.filter(pensioner=p))
            assert len({ln.month for ln in lines}) == len(lines)
            waiting = {ln.month for ln in lines if ln.paid_in is None}
            back_paid = set(LedgerEntry.objects.filter(pensioner=p, kind="back_pay").values_list("month", flat=True))
            assert back_paid == {ln.month for ln in lines if ln.paid_in is not None}
            covered = {m for m in closed if rules.paid_on_first(seen[p.pk].max_valid_until, m)}
            if p.death_date is None:
                # 2. The living: in the ledger's months, paid (or waiting for the next roster)
                #    exactly where the rules pay — their validity covers the 1st.
                got = ({m for m in paid if m in closed} | {m for m in waiting if m in closed})
                assert got == covered, (sorted(got), sorted(covered), p.valid_until)
                # Before the ledger, back-pay only for months the rules' validity covers.
                for m in waiting | back_paid:
                    if first_closed is None or m < first_closed:
                        assert rules.paid_on_first(p.valid_until, m) and m <= today
            else:
                # 3. The dead: nothing paid for a month whose 1st they did not live to see,
                #    except what was paid before the death was known — which is to be recovered.
                after = {m for m in paid if m > p.death_date}
                assert after <= seen[p.pk].paid_before_death
                op = Overpayment.objects.filter(pensioner=p).first()
                owed = {dt.date.fromisoformat(x) for x in op.months} if op else set()
                assert after <= owed
                for m in paid:
                    assert rules.paid_on_first(seen[p.pk].max_valid_until, m)
        transaction.set_rollback(True)
