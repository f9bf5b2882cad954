"""A matching chunk reads one partition of the evidence table (issue 14, docs/scale.md §2).

`bigdata_evidence` is PARTITION BY RANGE (bucket) on PostgreSQL, and a chunk is one
partition's bucket range. Every statement the chunk really executes is captured
(connection.execute_wrapper) and, at the moment it runs (its temporary tables
exist then), EXPLAINed with the same parameters: each one that reads evidence must
show that chunk's partition and none of the other seven. Also: the import writes
each row into the partition of its bucket, the pensioner side of a chunk can use
the expression index, and a pensioner's evidence page reads one partition.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bigdata import partitions
from bigdata.matching import _Chunk, chunk_process, chunks_plan, run_open
from bigdata.models import Evidence
from bigdata.services import evidence_import, source_get
from certification.evidence import evidence_log
from certification.idnumber import bucket_of
from tests.factories import PensionerFactory

from .conftest import make_id

pytestmark = [pytest.mark.django_db, pytest.mark.services]
TODAY = dt.date(2026, 7, 1)
EVIDENCE = re.compile(r'\bbigdata_evidence\b(?!_p)')  # the table, not bigdata_evidencesource or a partition
PARTITION = re.compile(r"\bbigdata_evidence_p(\d+)\b")


def _people() -> dict[str, Any]:
    """Two partitions (buckets 10–12 → p0, 300–303 → p2), each with a renewal, a death with its fraud, a verify case."""
    people = {}
    for seq in (10, 11, 12, 300, 301, 302):
        people[seq] = PensionerFactory(id_number=make_id(seq), valid_until=dt.date(2026, 8, 31),
                                       monthly_amount=Decimal("2000.00"))
    return people


def _import(feed, code: str, rows: list[tuple[str, ...]]) -> None:  # type: ignore[no-untyped-def]
    evidence_import(path=feed(rows), source=source_get(code), today=TODAY)


def _night(feed) -> dict[int, Any]:  # type: ignore[no-untyped-def]
    people = _people()
    late = make_id(303)  # evidence before its person: linked by the chunk
    _import(feed, "hospital", [(people[s].id_number, "2026-06-20", f"H{s}") for s in people] +
            [(late, "2026-06-21", "H303")])
    _import(feed, "death_civil", [(people[s].id_number, "2026-05-10", f"D{s}") for s in (11, 301)])
    _import(feed, "transit", [(people[s].id_number, "2026-06-25", f"T{s}") for s in (11, 301)])  # after death
    _import(feed, "hukou_cancel", [(people[s].id_number, "2026-06-01", f"K{s}") for s in (12, 302)])
    people[303] = PensionerFactory(id_number=late, valid_until=dt.date(2026, 8, 31))
    return people


def test_the_import_writes_each_row_into_the_partition_of_its_bucket(require_postgres, feed) -> None:  # type: ignore[no-untyped-def]
    _night(feed)
    with connection.cursor() as cur:
        cur.execute("SELECT tableoid::regclass::text, id_number, bucket FROM bigdata_evidence")
        rows = cur.fetchall()
    assert len(rows) == Evidence.objects.count() == 13
    assert {r[1] for r in rows if r[0] == partitions.partition_name(0)} and \
        {r[1] for r in rows if r[0] == partitions.partition_name(2)}
    for table, id_number, bucket in rows:
        assert bucket == bucket_of(id_number)
        assert table == partitions.partition_name(partitions.partition_of(bucket)), (table, id_number)


def _explaining(plans: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    """An execute wrapper: EXPLAIN every statement that names the evidence table, then run it."""

    def wrapper(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if not many and EVIDENCE.search(sql) and not sql.lstrip().upper().startswith(("EXPLAIN", "ANALYZE")):
            cur = context["cursor"]
            execute("EXPLAIN " + sql, params, many, context)
            plans.append((sql, "\n".join(r[0] for r in cur.fetchall())))
        return execute(sql, params, many, context)

    return wrapper


def test_every_evidence_statement_of_a_chunk_reads_only_its_own_partition(require_postgres, feed) -> None:  # type: ignore[no-untyped-def]
    people = _night(feed)
    with connection.cursor() as cur:
        cur.execute("ANALYZE bigdata_evidence")
    run = run_open(today=TODAY)
    chunks = chunks_plan(run)
    assert [(c.pk_lo, c.pk_hi) for c in chunks] == partitions.ranges()
    chunk = chunks[2]  # buckets [250, 375): the people 300–303
    plans: list[tuple[str, str]] = []
    with connection.execute_wrapper(_explaining(plans)):
        counts = chunk_process(run=run, chunk=chunk, today=TODAY)

    # The chunk did real work in every step (so every kind of statement was planned).
    assert counts["deceased"] == 1 and counts["fraud_alerts"] == 2 and counts["extended"] == 3, counts
    text = "\n".join(sql for sql, _ in plans)
    for step in ("UPDATE bigdata_evidence SET pensioner_id", "INSERT INTO bd_death", "INSERT INTO bd_seen",
                 "INSERT INTO bigdata_deathrecord", "INSERT INTO bigdata_fraudalert", "INSERT INTO bd_best",
                 "INSERT INTO certification_certification"):
        assert step in text, step
    assert len(plans) >= 9
    for sql, plan in plans:
        assert set(PARTITION.findall(plan)) == {"2"}, (sql[:300], plan)
    people[303].refresh_from_db()
    assert people[303].valid_until > dt.date(2026, 8, 31)  # linked late, then extended
    people[10].refresh_from_db()
    assert people[10].valid_until == dt.date(2026, 8, 31)  # another partition's person: untouched


def test_the_chunk_pensioner_filter_matches_the_expression_index(require_postgres) -> None:  # type: ignore[no-untyped-def]
    PensionerFactory(id_number=make_id(300))
    run = run_open(today=TODAY)
    where = _Chunk(run=run, lo=250, hi=375, today=TODAY)._pensioners()
    with connection.cursor() as cur:
        # With sequential scans priced out, the planner takes the index only if the
        # query's expression is the index's expression, character for character.
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute(f"EXPLAIN SELECT p.id FROM certification_pensioner p WHERE {where}", {"a": 250, "b": 375})  # noqa: S608 - fixed SQL
        plan = "\n".join(r[0] for r in cur.fetchall())
        cur.execute("SET LOCAL enable_seqscan TO DEFAULT")
    assert "pensioner_bucket_idx" in plan, plan


def test_a_pensioners_evidence_page_reads_one_partition(require_postgres, feed) -> None:  # type: ignore[no-untyped-def]
    people = _night(feed)
    with CaptureQueriesContext(connection) as queries:
        log = evidence_log(people[300], today=TODAY)
    assert log == [{"source": "hospital", "event_date": "2026-06-20"}]
    sql = next(q["sql"] for q in queries.captured_queries if EVIDENCE.search(q["sql"]))
    with connection.cursor() as cur:
        cur.execute("EXPLAIN " + sql)
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert set(PARTITION.findall(plan)) == {"2"}, plan
