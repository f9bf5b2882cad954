"""The evidence table's partitions, and the matching chunks that follow them (issue 14, docs/scale.md §2).

One home for the ranges: the migration that partitions `bigdata_evidence` copies
these constants (a migration must not import code that changes later), and
matching.chunks_plan makes one chunk per range, on SQLite too (no partitions there,
the same chunks). A range is [lo, hi) of certification.idnumber.bucket_of(); the
first and last are open so a malformed ID number (bucket 0 by the rule, but any
integer would do) is always inside one.
"""

from __future__ import annotations

PARTITIONS = 8
BUCKETS = 1000  # certification.idnumber.BUCKETS: bucket_of() is 0..999
OPEN_LO = -(1 << 31)
OPEN_HI = 1 << 31


def bounds() -> list[int]:
    """The inner boundaries: 125, 250, … 875 for 8 partitions of 1000 buckets."""
    return [BUCKETS * i // PARTITIONS for i in range(1, PARTITIONS)]


def ranges() -> list[tuple[int, int]]:
    """[lo, hi) per partition, in order; the first lo and the last hi are open."""
    edges = [OPEN_LO, *bounds(), OPEN_HI]
    return list(zip(edges[:-1], edges[1:], strict=True))


def partition_name(index: int) -> str:
    return f"bigdata_evidence_p{index}"


def partition_of(bucket: int) -> int:
    """Which partition (0-based) holds a bucket."""
    return next(i for i, (lo, hi) in enumerate(ranges()) if lo <= bucket < hi)
