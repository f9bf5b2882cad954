"""What an evidence row costs to write stays what docs/performance.md measured (issue 14).

Every trigger and index on `bigdata_evidence` is paid once per imported row. The
import's cost was measured with exactly: no triggers (the foreign keys carry no
database constraint: one batch has one source, checked once by the batch row's own
foreign key), the primary key, the `(source, source_ref)` unique key, and two
partial indexes. Since the partitioning (migration 0007) the keys carry the bucket,
`(id, bucket)` and `(source, source_ref, bucket)`, and each of the eight partitions
has exactly those four indexes, so a row still pays four index insertions. A new index or a constraint trigger on the table would change
the import's cost at millions of rows (a per-pensioner index was measured at
+70–180 % of the insert, "Where the import's time goes"), so it must be a decision
made with a measurement, not a side effect of a model edit: this test fails first.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from bigdata import partitions
from bigdata.models import Evidence, EvidenceBatch, EvidenceSource
from bigdata.services import evidence_import, source_get
from tests.bigdata.conftest import make_id
from tests.factories import PensionerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.services]
TODAY = dt.date(2026, 7, 1)


def _indexes(table: str = Evidence._meta.db_table) -> dict[str, str]:
    with connection.cursor() as cur:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cur.fetchall())


def _partitions() -> list[tuple[str, str]]:
    with connection.cursor() as cur:
        cur.execute("SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                    "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass ORDER BY c.relname",
                    [Evidence._meta.db_table])
        return cur.fetchall()


def _triggers_and_constraints(table: str) -> tuple[list[str], list[str]]:
    with connection.cursor() as cur:
        cur.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass", [table])
        triggers = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT contype FROM pg_constraint WHERE conrelid = %s::regclass", [table])
        return triggers, sorted(r[0] for r in cur.fetchall())


def test_evidence_has_no_triggers_and_only_the_measured_indexes(require_postgres) -> None:  # type: ignore[no-untyped-def]
    """Partitioned by bucket (migration 0007): the parent holds the four index definitions and
    every partition exactly their four copies; no trigger and no foreign key anywhere."""
    table = Evidence._meta.db_table
    with connection.cursor() as cur:
        cur.execute("SELECT pg_get_partkeydef(%s::regclass)", [table])
        assert cur.fetchone()[0] == "RANGE (bucket)"
    parts = _partitions()
    assert [name for name, _ in parts] == [partitions.partition_name(i) for i in range(partitions.PARTITIONS)]
    edges = ["MINVALUE", *(f"'{b}'" for b in partitions.bounds()), "MAXVALUE"]
    assert [bound for _, bound in parts] == [f"FOR VALUES FROM ({edges[i]}) TO ({edges[i + 1]})"
                                            for i in range(partitions.PARTITIONS)]
    for name in [table, *(name for name, _ in parts)]:
        triggers, constraints = _triggers_and_constraints(name)
        # No RI_ConstraintTrigger_* (one deferred check per inserted row), no other trigger.
        assert triggers == [], name
        assert constraints == ["p", "u"], (name, constraints)  # no foreign key ('f') constraint
    indexes = _indexes()
    assert set(indexes) == {"bigdata_evidence_pkey", "evidence_once_per_source_ref", "evidence_unmatched_idx",
                            "evidence_linked_idx"}, indexes
    assert indexes["bigdata_evidence_pkey"].endswith("USING btree (id, bucket)")
    assert indexes["evidence_once_per_source_ref"].endswith("USING btree (source_id, source_ref, bucket)")
    assert "WHERE (pensioner_id IS NULL)" in indexes["evidence_unmatched_idx"]
    assert "WHERE (linked_by_run IS NOT NULL)" in indexes["evidence_linked_idx"]
    for name, _ in parts:
        own = _indexes(name)
        assert len(own) == 4, (name, own)
        defs = sorted(d.split(" USING ", 1)[1] for d in own.values())
        assert defs == sorted(d.split(" USING ", 1)[1] for d in indexes.values()), (name, own)


def test_the_source_is_checked_once_per_batch(require_postgres, feed) -> None:  # type: ignore[no-untyped-def]
    """The batch row's foreign key is the source check the evidence rows do without."""
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' "
                    "AND confrelid = %s::regclass", [EvidenceBatch._meta.db_table, EvidenceSource._meta.db_table])
        assert cur.fetchone()[0] == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        EvidenceBatch.objects.create(source_id=987654321)
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    # And an import's rows carry its batch's source, which exists.
    person = PensionerFactory(id_number=make_id(7))
    source = source_get("hospital")
    res = evidence_import(path=feed([(person.id_number, "2026-06-20", "W-1"), (make_id(8), "2026-06-21", "W-2")]),
                          source=source, today=TODAY)
    assert (res.accepted, res.unmatched) == (1, 1)
    rows = Evidence.objects.filter(source_ref__in=["W-1", "W-2"])
    assert {r.source_id for r in rows} == {source.pk}
    assert EvidenceSource.objects.filter(pk__in={r.source_id for r in rows}).count() == 1
