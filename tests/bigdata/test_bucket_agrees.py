"""The partition key has one rule: certification.idnumber.bucket_of() and bucket_sql() agree (issue 14).

On the test database's engine (PostgreSQL in CI, SQLite for the demo) and, in every
run, on a real SQLite engine in memory, so both SQL spellings are checked wherever
the suite runs. The population holds what rosters and feeds really contain: valid
numbers, short and long ones, letters, an X check digit, full-width digits (not
normalised), blanks and whitespace.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3

import pytest
from django.db import connection

from bigdata import partitions
from certification import idnumber
from certification.idnumber import bucket_of, bucket_sql


def _population() -> list[str]:
    rng = random.Random(14)
    valid = [idnumber.make(f"{rng.randrange(110000, 660000)}", dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(30000)),
                           rng.randrange(1000)) for _ in range(400)]
    odd = [
        "", " ", "1", "37020219480301", "370202194803010", "3702021948030101", "37020219480301012",
        "37020219480301A12X", "370202194803010A2X", "3702021948030101AX", "37020219480301-12X",
        "370202194803011 2X", "３７０２０２１９４８０３０１０１２Ｘ", "37020219480301０１２X", "37020219480301٣12X",
        "370202194803010123456", "37020219480301999X", "370202194803010001", "x" * 18,
    ]
    return valid + odd + [v.lower() for v in valid[:5]] + [v[:16] for v in valid[:5]]


def test_bucket_of_is_total_and_in_range_for_valid_numbers() -> None:
    for raw in _population():
        b = bucket_of(raw)
        assert 0 <= b < idnumber.BUCKETS, raw
    assert bucket_of(idnumber.make("370202", dt.date(1948, 3, 1), 137)) == 137
    assert bucket_of("37020219480301") == 0 and bucket_of("37020219480301A12X") == 0
    # Every bucket has exactly one partition, and so does anything a malformed row could hold.
    assert [partitions.partition_of(b) for b in (0, 124, 125, 999)] == [0, 0, 1, partitions.PARTITIONS - 1]
    assert partitions.partition_of(-5) == 0 and partitions.partition_of(32767) == partitions.PARTITIONS - 1


def _sql_buckets(cur, vendor: str, values: list[str], mark: str = "%s") -> list[int]:  # type: ignore[no-untyped-def]
    cur.execute("CREATE TEMP TABLE bucket_probe (k integer, v varchar(40))")
    cur.executemany(f"INSERT INTO bucket_probe VALUES ({mark}, {mark})", list(enumerate(values)))
    cur.execute(f"SELECT {bucket_sql('v', vendor)} FROM bucket_probe ORDER BY k")  # noqa: S608 - a fixed column name
    out = [int(r[0]) for r in cur.fetchall()]
    cur.execute("DROP TABLE bucket_probe")
    return out


@pytest.mark.django_db
def test_sql_and_python_agree_on_the_test_database() -> None:
    values = _population()
    with connection.cursor() as cur:  # Django's cursor takes %s on both engines
        assert _sql_buckets(cur, connection.vendor, values) == [bucket_of(v) for v in values]


def test_sql_and_python_agree_on_sqlite() -> None:
    values = _population()
    db = sqlite3.connect(":memory:")
    try:
        assert _sql_buckets(db.cursor(), "sqlite", values, mark="?") == [bucket_of(v) for v in values]
    finally:
        db.close()
