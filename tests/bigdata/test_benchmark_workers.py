"""benchmark_matching --workers N: the night run as N workers would run it ends where one worker ends.

The benchmark's threaded night (feeds imported two at a time, partition chunks
matched two at a time, each worker on its own connection) must be the same night,
or its figures measure something else. Real PostgreSQL, real concurrent
connections; the benchmark's own city builder, at a small size.
"""

from __future__ import annotations

import random

import pytest

from bigdata import partitions
from bigdata.management.commands.benchmark_matching import Command
from bigdata.models import MatchingChunk, MatchingRun
from certification.models import StreetOffice

from .test_run_safety import TODAY, _snapshot


def _night(tmp_path, workers: int) -> tuple[dict, dict, dict]:  # type: ignore[type-arg]
    cmd = Command()
    rng = random.Random(20261202)
    cmd._reset()
    cmd._build_pensioners(800, TODAY, rng)
    files = cmd._write_feeds(tmp_path / f"workers-{workers}", 800, 4000, TODAY, rng)
    imported = cmd._import(files, TODAY, workers)
    matched = cmd._match(TODAY, workers)
    return imported, matched, _snapshot()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_workers_import_and_match_the_same_night_as_one(require_postgres, tmp_path):
    assert StreetOffice.objects.exists()  # the reference data conftest puts back
    (tmp_path / "workers-1").mkdir()
    (tmp_path / "workers-2").mkdir()

    imported_1, matched_1, people_1 = _night(tmp_path, 1)
    imported_2, matched_2, people_2 = _night(tmp_path, 2)

    assert imported_1["accepted"] > 3000 and imported_1["unmatched"] > 0
    assert imported_2 == imported_1
    assert matched_1["extended"] > 100 and matched_1["deceased"] >= 1
    # Every chunk ran once, the run closed, and its totals are the one-worker totals.
    run = MatchingRun.objects.get()
    assert run.status == MatchingRun.Status.DONE
    assert sorted(run.chunks.values_list("pk_lo", "pk_hi")) == partitions.ranges()
    assert not MatchingChunk.objects.filter(done_at__isnull=True).exists()
    assert len(matched_2["chunk_seconds"]) == len(partitions.ranges())
    assert {k: v for k, v in matched_2.items() if k not in ("seconds", "chunk_seconds")} == \
        {k: v for k, v in matched_1.items() if k != "seconds"}
    assert people_2 == people_1
