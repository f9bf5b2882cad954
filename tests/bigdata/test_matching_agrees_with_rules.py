"""SQL/rule agreement (DESIGN §2): matching_run on a generated population gives exactly what
the pure functions of certification.rules give, replayed per pensioner in the same order,
with a generated payment ledger (closed months, each person paid in some of them)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bigdata.matching import matching_run
from bigdata.models import Evidence, EvidenceSource, FraudAlert
from certification import rules
from certification.models import (
    BackPayLine,
    Certification,
    LedgerEntry,
    Overpayment,
    Pensioner,
    RosterMonth,
    StatusChange,
)
from certification.rules import Status
from tests.factories import office

from .conftest import make_id

pytestmark = pytest.mark.django_db

QUALIFYING = ["hospital", "transit", "counter_visit"]
DEATH = ["death_civil", "cremation"]
_refs = itertools.count(1)


ENROLLED = dt.date(2020, 1, 1)


@dataclass
class Person:
    valid_until: dt.date
    status: str
    suspended_since: dt.date | None
    death_date: dt.date | None
    amount: Decimal
    evidence: list[tuple[str, int]] = field(default_factory=list)  # (source, day offset from today)


@st.composite
def person(draw: st.DrawFn) -> Person:
    valid_offset = draw(st.integers(-420, 420))
    lag = draw(st.integers(0, 70))  # days since the job last looked at this person
    amount = Decimal(draw(st.integers(1000, 6000)))
    evidence = draw(st.lists(st.tuples(st.sampled_from(QUALIFYING + DEATH), st.integers(-500, 10)), max_size=4))
    return Person(valid_until=dt.date(2000, 1, 1), status="", suspended_since=None, death_date=None,
                  amount=amount, evidence=evidence), valid_offset, lag, draw(
        st.integers(0, 9)), draw(st.integers(1, 300))


def _settle(raw: tuple, today: dt.date) -> Person:  # type: ignore[type-arg]
    p, valid_offset, lag, dice, dead_ago = raw
    p.valid_until = today + dt.timedelta(days=valid_offset)
    seen = today - dt.timedelta(days=lag)
    p.status = rules.status(p.valid_until, seen).value
    if p.status == Status.SUSPENDED:
        p.suspended_since = rules.suspension_date(p.valid_until)
    if dice == 0:  # one in ten already recorded dead
        p.status = Status.DECEASED.value
        p.death_date = today - dt.timedelta(days=dead_ago)
    return p


def _paid(p: Person, closed: list[dt.date]) -> frozenset[dt.date]:
    """A ledger the roster could have written: each closed month paid by the rule on its 1st
    (validity never moves back, and every later move back-paid what it covered)."""
    return frozenset(m for m in closed if rules.paid_on_first(p.valid_until, m)
                     and (p.death_date is None or p.death_date >= m))


def expected(p: Person, evidence: list[tuple[int, str, str, dt.date]], today: dt.date,  # type: ignore[type-arg]
             closed: list[dt.date]) -> dict:
    """The pure rules, in matching's order, for one person. evidence: (id, source, ref, date)."""
    quals = [e for e in evidence if e[1] in QUALIFYING and e[3] <= today]
    deaths = [e for e in evidence if e[1] in DEATH and e[3] <= today]
    status, vu, ss, dd = p.status, p.valid_until, p.suspended_since, p.death_date
    ledger = rules.Ledger(closed=frozenset(closed), paid=_paid(p, closed))
    out: dict = {"certs": set(), "fraud": set(), "overpayment": None, "back_pay": None, "changes": []}  # type: ignore[type-arg]
    if status != Status.DECEASED and deaths:
        first = min(deaths, key=lambda e: (e[3], e[0]))
        # Seen alive in person after the death date (a counter visit): a death_conflict case
        # for the street office, not a death (issue 10).
        if any(e[1] == "counter_visit" and e[3] > first[3] for e in quals):
            deaths = []
    if status != Status.DECEASED and deaths:
        months = rules.overpaid_months_in_ledger(
            death_date=first[3], run_date=today, ledger=ledger,
            unpaid_since=ss if status == Status.SUSPENDED else None)
        if months:
            out["overpayment"] = ([m.isoformat() for m in months], p.amount * len(months))
        out["changes"].append((status, Status.DECEASED.value))
        status, dd = Status.DECEASED.value, first[3]
    if status == Status.DECEASED:
        out["fraud"] = {(e[1], e[2]) for e in quals if e[3] > dd}
    else:
        old_vu = vu
        if quals:
            best = max(quals, key=lambda e: (e[3], e[0]))
            new = rules.extend(vu, best[3])
            if new > vu:
                vu = new
                out["certs"] = {(best[1], best[2], best[3])}
        final = rules.status(vu, today).value
        if vu != old_vu or final != status:
            months = rules.back_pay_months(new_valid_until=vu, today=today, ledger=ledger,
                                           unpaid_since=ss if status == Status.SUSPENDED else None,
                                           enrolled_on=ENROLLED)
            if months:
                out["back_pay"] = (months, p.amount * len(months))
        if final != status:
            out["changes"].append((status, final))
        if final == Status.SUSPENDED:
            # The suspension date moves with valid_until (DESIGN §2); unchanged, it stays.
            ss = ss if (status == Status.SUSPENDED and vu == old_vu) else rules.suspension_date(vu)
        else:
            ss = None
        status = final
    out.update(status=status, valid_until=vu, suspended_since=ss, death_date=dd)
    return out


def actual(pk: int) -> dict:  # type: ignore[type-arg]
    p = Pensioner.objects.get(pk=pk)
    op = Overpayment.objects.filter(pensioner_id=pk).first()
    lines = list(BackPayLine.objects.filter(pensioner_id=pk).order_by("month"))
    return {
        "status": p.status, "valid_until": p.valid_until, "suspended_since": p.suspended_since,
        "death_date": p.death_date,
        "certs": {(c.source, c.evidence_ref, c.occurred_on) for c in Certification.objects.filter(pensioner_id=pk)},
        "fraud": {(f.source, f.source_ref) for f in FraudAlert.objects.filter(pensioner_id=pk)},
        "overpayment": (op.months, op.total) if op else None,
        "back_pay": ([ln.month for ln in lines], sum((ln.amount for ln in lines), Decimal(0))) if lines else None,
        "changes": [(c.old_status, c.new_status) for c in StatusChange.objects.filter(pensioner_id=pk).order_by("id")],
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(
    today=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2028, 12, 31)),
    people=st.lists(person(), min_size=1, max_size=8),
    # Closed rosters (months back from next month); none at all is the ledger's first day.
    closed_back=st.sets(st.integers(0, 14), max_size=6),
)
def test_matching_run_equals_the_pure_rules_on_a_generated_population(today, people, closed_back):
    sources = {s.code: s for s in EvidenceSource.objects.all()}
    where = office()
    closed = sorted(rules.add_months(rules.next_month_start(today), -k) for k in closed_back)
    with transaction.atomic():
        RosterMonth.objects.bulk_create([RosterMonth(month=m, closed_on=m) for m in closed])
        settled = [_settle(raw, today) for raw in people]
        created: list[tuple[int, Person, list[tuple[int, str, str, dt.date]]]] = []
        for i, p in enumerate(settled):
            row = Pensioner.objects.create(
                id_number=make_id(i), name=f"P{i}", birth_date=dt.date(1948, 3, 1), sex="M",
                street_office=where, monthly_amount=p.amount, valid_until=p.valid_until, status=p.status,
                suspended_since=p.suspended_since, death_date=p.death_date, enrolled_on=dt.date(2020, 1, 1),
            )
            LedgerEntry.objects.bulk_create([
                LedgerEntry(roster_month=m, pensioner=row, kind="pay", month=m, amount=p.amount)
                for m in _paid(p, closed)])
            ev = []
            for code, offset in p.evidence:
                day = max(today + dt.timedelta(days=offset), dt.date(1950, 1, 1))
                e = Evidence.objects.create(source=sources[code], source_ref=f"R{next(_refs)}",
                                            id_number=row.id_number, event_date=day, pensioner=row)
                ev.append((e.pk, code, e.source_ref, day))
            created.append((row.pk, p, ev))

        out = matching_run(today=today)

        exp_all = {pk: expected(p, ev, today, closed) for pk, p, ev in created}
        for pk, _p, _ev in created:
            assert actual(pk) == exp_all[pk], (pk, _p, _ev, closed, today)
        assert out["extended"] == sum(bool(e["certs"]) for e in exp_all.values())
        assert out["deceased"] == sum(bool(e["changes"]) and e["changes"][0][1] == "deceased"
                                      for e in exp_all.values())
        assert out["fraud_alerts"] == sum(len(e["fraud"]) for e in exp_all.values())
        # The second run the same day changes nothing.
        again = matching_run(today=today)
        assert {k: v for k, v in again.items() if k != "seconds"} == dict.fromkeys(
            ["extended", "entered_warning", "suspended", "restored", "deceased", "fraud_alerts"], 0)
        for pk, _p, _ev in created:
            assert actual(pk) == exp_all[pk], (pk, _p, _ev, closed, today)
        transaction.set_rollback(True)
