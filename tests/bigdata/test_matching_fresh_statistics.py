"""The matching is immune to the empty-partition planner trap (issue 14, like the import's).

A partition ANALYZEd while empty (a fresh or restored database) and then filled by the
night's import was planned from "0 rows": at 200k pensioners the fraud step became a
nested loop of 124k evidence rows × every deceased pensioner, 24.5 s instead of well
under a second. A chunk now analyzes its own partition when a tenth of it changed since
the last ANALYZE, and leaves fresh partitions alone.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db import connection

from bigdata import partitions
from bigdata.matching import matching_run, partitions_analyze_if_stale
from bigdata.services import evidence_import, source_get
from tests.factories import PensionerFactory

from .conftest import make_id

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]
TODAY = dt.date(2026, 7, 1)


def _stats(name: str) -> tuple[float, int, object]:
    with connection.cursor() as cur:
        cur.execute("SELECT c.reltuples, s.n_mod_since_analyze, COALESCE(s.last_analyze, s.last_autoanalyze) "
                    "FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = %s", [name])
        return cur.fetchone()


def _wait_for_counts(name: str, at_least: int) -> None:
    """The cumulative statistics reach pg_stat_user_tables shortly after commit."""
    for _ in range(50):
        with connection.cursor() as cur:
            cur.execute("SELECT pg_stat_force_next_flush()")
        if _stats(name)[1] >= at_least:
            return
        time.sleep(0.2)
    raise AssertionError(f"{name}: modifications never reached pg_stat_user_tables")


def test_a_chunk_analyzes_its_partition_filled_after_an_empty_analyze(feed):
    if connection.vendor != "postgresql":
        pytest.skip("partitions exist on PostgreSQL only")
    filled, untouched = partitions.partition_name(0), partitions.partition_name(2)
    people = [PensionerFactory(id_number=make_id(seq), valid_until=dt.date(2026, 8, 31)) for seq in (10, 11, 12)]
    with connection.cursor() as cur:
        cur.execute("ANALYZE bigdata_evidence")  # every partition analyzed while empty
    assert _stats(filled)[0] == 0
    empty_analyzed_at = _stats(untouched)[2]
    rows = [(p.id_number, f"2026-06-{day:02d}", f"H{p.pk}-{day}-{k}") for p in people for day in range(1, 29)
            for k in range(5)]
    evidence_import(path=feed(rows), source=source_get("hospital"), today=TODAY)
    _wait_for_counts(filled, len(rows))
    assert _stats(filled)[0] == 0  # still planned as empty: the trap

    result = matching_run(today=TODAY)

    assert result["extended"] == 3
    reltuples, mods, _at = _stats(filled)
    assert reltuples == len(rows) and mods < len(rows) / 10
    assert _stats(untouched)[2] == empty_analyzed_at  # nothing changed there: not analyzed again
    assert partitions_analyze_if_stale(0, 125) == []  # fresh now: no second ANALYZE
