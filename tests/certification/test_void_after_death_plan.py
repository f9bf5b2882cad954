"""Voiding the big-data certifications after a death reaches them from the deaths, not from the table.

A night records a few deaths against a certification table of millions of rows, and the
night itself fills that table faster than autovacuum re-analyses it. The statement was an
IN plus a correlated subquery: with stale statistics PostgreSQL scanned every big-data
certification and ran the subquery on each row, so the deaths step grew with the table,
from 0.9 s to 24.4 s a chunk within one 2M-pensioner benchmark night
(docs/performance.md, "session 5"). Now it is a join driven by the writer's work table:
this test analyses the certification table while it is empty, fills it, records one death
through the writer and reads the plan of the voiding statement as it runs.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from certification.effects import Effect, effects_apply
from certification.models import Certification, Pensioner
from tests.factories import PensionerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.services]
TODAY = dt.date(2026, 7, 1)


def _explaining(plans: list[str]):  # type: ignore[no-untyped-def]
    def wrapper(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if not many and sql.lstrip().startswith("UPDATE certification_certification SET voided_at"):
            with context["connection"].cursor() as cur:
                cur.execute("EXPLAIN " + sql, params)
                plans.append("\n".join(r[0] for r in cur.fetchall()))
        return execute(sql, params, many, context)
    return wrapper


def test_the_void_after_death_is_driven_by_the_deaths_whatever_the_statistics(require_postgres) -> None:  # type: ignore[no-untyped-def]
    people = [PensionerFactory(valid_until=dt.date(2027, 3, 1)) for _ in range(3)]
    with connection.cursor() as cur:
        cur.execute("ANALYZE certification_certification")  # analysed empty: the stale case
    # Thousands of other people's big-data certifications, then the dying person's two.
    others = Pensioner.objects.bulk_create(PensionerFactory.build_batch(2500))
    Certification.objects.bulk_create(
        [Certification(pensioner=p, method="big_data", occurred_on=dt.date(2026, 5, 1), source="hospital",
                       evidence_ref=f"H-{p.pk}") for p in others])
    dying = people[1]
    Certification.objects.bulk_create([
        Certification(pensioner=dying, method="big_data", occurred_on=dt.date(2026, 3, 1), source="hospital",
                      evidence_ref="before"),
        Certification(pensioner=dying, method="big_data", occurred_on=dt.date(2026, 6, 1), source="transit",
                      evidence_ref="after"),
    ])

    plans: list[str] = []
    with connection.execute_wrapper(_explaining(plans)):
        counts = effects_apply(today=TODAY, rows=[
            Effect(pensioner_id=dying.pk, reason="death:death_civil", death_date=dt.date(2026, 4, 10))])

    assert counts.deceased == 1
    # Only the certification dated after the death is voided; nobody else's.
    voided = set(Certification.objects.filter(voided_at__isnull=False).values_list("pensioner_id", "evidence_ref"))
    assert voided == {(dying.pk, "after")}
    assert len(plans) == 1, plans
    plan = plans[0]
    assert "SubPlan" not in plan, plan
    assert "Seq Scan on certification_certification" not in plan, plan
    assert "cert_big_data_once" not in plan, plan  # not every big-data certification
    assert "cert_history_idx" in plan, plan
