"""The import's plans do not hinge on the evidence table's statistics (the empty-table planner trap).

Found in the reliability drills: after a truncate or a restore, an ANALYZEd empty
evidence table made the planner pick a nested-loop anti-join, and a 300,000-row
import ran for minutes. The import now reads nothing from the evidence table (the
unique index decides duplicates: ON CONFLICT DO NOTHING), ANALYZEs its staging
table, and hashes its joins. These tests EXPLAIN every statement the import runs,
in exactly that state, and look at the plans.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection

from bigdata.models import Evidence
from bigdata.services import evidence_import, source_get
from certification import idnumber
from certification.models import Pensioner
from tests.factories import PensionerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.services]
TODAY = dt.date(2026, 7, 1)
N_PEOPLE = 3000


@pytest.fixture
def city(require_postgres) -> list[str]:  # type: ignore[no-untyped-def]
    template = PensionerFactory.build()
    people = []
    for i in range(N_PEOPLE):
        number = idnumber.make("370211", dt.date(1940, 1, 1) + dt.timedelta(days=i), i % 1000)
        rid = idnumber.parse(number)
        people.append(Pensioner(id_number=number, name=f"测试{i}", birth_date=rid.birth_date, sex=rid.sex,
                                phone=f"138{i:08d}", street_office=template.street_office,
                                monthly_amount=template.monthly_amount, valid_until=template.valid_until,
                                status="active", enrolled_on=template.enrolled_on))
    Pensioner.objects.bulk_create(people)
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {Pensioner._meta.db_table}")
    return [p.id_number for p in people]


def _feed(tmp_path, ids: list[str], n: int, start: int = 0):  # type: ignore[no-untyped-def]
    path = tmp_path / f"feed-{start}.csv"
    lines = ["id_number,event_date,source_ref"]
    for k in range(start, start + n):
        number = ids[k % len(ids)] if k % 50 else idnumber.make("110101", dt.date(1960, 1, 1), k % 1000)
        lines.append(f"{number},2026-0{1 + k % 6}-15,R-{k}")
    lines.append(f"{ids[0]},2026-13-01,BAD-1")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class _Plans:
    """EXPLAINs each data-changing statement the import sends, just before it runs."""

    def __init__(self) -> None:
        self.plans: list[tuple[str, str]] = []

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if not many and re.match(r"\s*(WITH|INSERT|UPDATE|DELETE)\b", sql) and "bigdata_calendar" not in sql[:60]:
            with context["connection"].connection.cursor() as cur:
                cur.execute("EXPLAIN " + sql, params)
                self.plans.append((sql, "\n".join(r[0] for r in cur.fetchall())))
        return execute(sql, params, many, context)


def _no_loop_over_a_big_side(sql: str, plan: str) -> None:
    """No nested loop, except the small residue's look-up of its pensioners through the id_number index."""
    if "Nested Loop" not in plan:
        return
    assert "bigdata_rest_" in sql, (sql[:200], plan)
    assert "Nested Loop Anti" not in plan and "Seq Scan on certification_pensioner" not in plan, plan
    assert re.search(r"Index (Only )?Scan using \S+ on certification_pensioner", plan), plan


def _import_explained(path):  # type: ignore[no-untyped-def]
    plans = _Plans()
    with connection.execute_wrapper(plans):
        result = evidence_import(path=path, source=source_get("hospital"), today=TODAY)
    return result, plans.plans


def test_an_import_into_a_freshly_analyzed_empty_evidence_table_uses_no_nested_loop(city, tmp_path):
    with connection.cursor() as cur:
        cur.execute(f"TRUNCATE {Evidence._meta.db_table}")
        cur.execute(f"ANALYZE {Evidence._meta.db_table}")
    result, plans = _import_explained(_feed(tmp_path, city, 20_000))
    assert (result.rows, result.rejected) == (20_001, 1)
    assert result.accepted + result.unmatched == 20_000 and result.unmatched == 400
    evidence_plans = [(sql, plan) for sql, plan in plans if Evidence._meta.db_table in sql]
    assert len(evidence_plans) >= 2, [sql[:80] for sql, _ in plans]
    for sql, plan in plans:
        _no_loop_over_a_big_side(sql, plan)
        # The evidence table is only ever the insert's target: no scan of it to plan badly.
        assert not re.search(r"Scan.* on bigdata_evidence\b", plan), (sql[:200], plan)


def test_a_re_import_with_new_and_old_rows_also_plans_without_nested_loops(city, tmp_path):
    with connection.cursor() as cur:
        cur.execute(f"TRUNCATE {Evidence._meta.db_table}")
        cur.execute(f"ANALYZE {Evidence._meta.db_table}")
    first, _ = _import_explained(_feed(tmp_path, city, 5_000))
    again, plans = _import_explained(_feed(tmp_path, city, 10_000))  # the first 5,000 are repeats
    assert first.accepted + first.unmatched == 5_000
    assert (again.duplicates, again.accepted + again.unmatched) == (5_000, 5_000)
    for sql, plan in plans:
        _no_loop_over_a_big_side(sql, plan)
