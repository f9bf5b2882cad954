"""What an evidence row costs to write stays what docs/performance.md measured (issue 14).

Every trigger and index on `bigdata_evidence` is paid once per imported row. The
import's cost was measured with exactly: no triggers (the foreign keys carry no
database constraint: one batch has one source, checked once by the batch row's own
foreign key), the primary key, the `(source, source_ref)` unique key, and two
partial indexes. A new index or a constraint trigger on the table would change
the import's cost at millions of rows (a per-pensioner index was measured at
+70–180 % of the insert, "Where the import's time goes"), so it must be a decision
made with a measurement, not a side effect of a model edit: this test fails first.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from bigdata.models import Evidence, EvidenceBatch, EvidenceSource
from bigdata.services import evidence_import, source_get
from tests.bigdata.conftest import make_id
from tests.factories import PensionerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.services]
TODAY = dt.date(2026, 7, 1)


def _indexes() -> dict[str, str]:
    with connection.cursor() as cur:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [Evidence._meta.db_table])
        return dict(cur.fetchall())


def test_evidence_has_no_triggers_and_only_the_measured_indexes(require_postgres) -> None:  # type: ignore[no-untyped-def]
    with connection.cursor() as cur:
        cur.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass", [Evidence._meta.db_table])
        triggers = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT conname, contype FROM pg_constraint WHERE conrelid = %s::regclass",
                    [Evidence._meta.db_table])
        constraints = dict(cur.fetchall())
    # No RI_ConstraintTrigger_* (one deferred check per inserted row), no other trigger.
    assert triggers == []
    assert sorted(constraints.values()) == ["p", "u"], constraints  # no foreign key ('f') constraint
    indexes = _indexes()
    assert set(indexes) == {"bigdata_evidence_pkey", "evidence_once_per_source_ref", "evidence_unmatched_idx",
                            "evidence_linked_idx"}, indexes
    assert "WHERE (pensioner_id IS NULL)" in indexes["evidence_unmatched_idx"]
    assert "WHERE (linked_by_run IS NOT NULL)" in indexes["evidence_linked_idx"]


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
