"""The writer's work table is in key order and has statistics (issue 14, docs/performance.md).

`effects_apply` writes fx_work (one row per pensioner that changes) and then reads it in
seven or eight statements. Temporary tables are never auto-analyzed, and without
statistics PostgreSQL took fx_work for a fifth of its size and each filter on it for a
default fraction: at a million rows the back-pay step chose a merge anti-join over the
whole table through its primary key (7.7 s for 25,000 candidates). So the writer fills
fx_work in pensioner_id order and ANALYZEs it. These tests fail if either is dropped;
that the rows written stay the same is the agreement tests' job
(tests/bigdata/test_matching_agrees_with_rules.py, tests/cases).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction

from certification.effects import Source, effects_apply
from certification.models import Pensioner
from tests.factories import PensionerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.services]
TODAY = dt.date(2026, 7, 1)


def _city() -> list[Pensioner]:
    people = []
    for i in range(60):
        if i % 5 == 0:  # suspended: the back-pay candidates
            vu = dt.date(2026, 1, 1)
            people.append(PensionerFactory(valid_until=vu, status="suspended", suspended_since=dt.date(2026, 4, 1)))
        else:
            people.append(PensionerFactory(valid_until=dt.date(2026, 9, 1) + dt.timedelta(days=i)))
    return people


def _apply_in_scrambled_order(people: list[Pensioner]) -> int:
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS pg_temp.t_src")
        cur.execute("CREATE TEMP TABLE t_src (pensioner_id bigint, vu date)")
        # Rows arrive in no particular order (the matching's hash aggregate), every
        # third one changing nothing (an earlier date: the writer drops it).
        rows = [(p.pk, dt.date(2027, 6, 1) if k % 3 else dt.date(2025, 1, 1)) for k, p in enumerate(people)]
        rows.sort(key=lambda r: (r[0] * 7919) % 101)
        cur.executemany("INSERT INTO t_src VALUES (%s, %s)", rows)
    counts = effects_apply(today=TODAY, source=Source(
        columns={"pensioner_id": "s.pensioner_id", "valid_until": "s.vu", "reason": "'certified:big_data'"},
        from_sql="t_src s"))
    return counts.changed


def test_fx_work_is_in_pensioner_order_and_analyzed(require_postgres) -> None:  # type: ignore[no-untyped-def]
    people = _city()
    with transaction.atomic():
        changed = _apply_in_scrambled_order(people)
        with connection.cursor() as cur:
            cur.execute("SELECT pensioner_id FROM fx_work ORDER BY ctid")
            physical = [r[0] for r in cur.fetchall()]
            # reltuples is -1 until a table is first analyzed (PostgreSQL 14+), and
            # ANALYZE sets it to the row count of a table this small.
            cur.execute("SELECT reltuples FROM pg_class WHERE oid = 'pg_temp.fx_work'::regclass")
            reltuples = cur.fetchone()[0]
            cur.execute("SELECT COUNT(*) FROM pg_stats WHERE tablename = 'fx_work' AND attname = 'unpaid_since'")
            stats = cur.fetchone()[0]
        transaction.set_rollback(True)
    assert changed == 40  # the 20 earlier dates change nothing
    assert len(physical) == changed
    assert physical == sorted(physical), "fx_work must be written in pensioner_id order"
    assert reltuples == changed, f"fx_work must be analyzed after it is filled (reltuples={reltuples})"
    assert stats == 1


def test_the_back_pay_candidates_are_estimated_from_statistics(require_postgres) -> None:  # type: ignore[no-untyped-def]
    """The planner's estimate of the back-pay candidate filter is near the truth (8 of 40),
    not the default fraction of a guessed table size."""
    people = _city()
    with transaction.atomic():
        _apply_in_scrambled_order(people)
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (FORMAT JSON) SELECT * FROM fx_work w WHERE w.new_status <> 'deceased' "
                        "AND (w.money = 1 OR w.unpaid_since IS NOT NULL)")
            plan = cur.fetchone()[0][0]["Plan"]
            cur.execute("SELECT COUNT(*) FROM fx_work w WHERE w.new_status <> 'deceased' "
                        "AND (w.money = 1 OR w.unpaid_since IS NOT NULL)")
            actual = cur.fetchone()[0]
        transaction.set_rollback(True)
    assert actual == 8  # the suspended whose date moved (two in three of the twelve)
    assert actual / 2 <= plan["Plan Rows"] <= actual * 2, plan


@pytest.mark.parametrize("caller", ["on", "off"])
def test_the_callers_jit_setting_is_restored(require_postgres, caller) -> None:  # type: ignore[no-untyped-def]
    """The writer turns JIT off for its own statements only (the back-pay INSERT's compile
    cost more than its run); the caller's statements afterwards get the caller's setting."""
    people = _city()
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('jit', %s, true)", [caller])
        assert _apply_in_scrambled_order(people) == 40
        with connection.cursor() as cur:
            cur.execute("SELECT current_setting('jit')")
            after = cur.fetchone()[0]
        transaction.set_rollback(True)
    assert after == caller
