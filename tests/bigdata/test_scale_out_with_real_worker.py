"""Scale-out: the beat task splits a night into one chunk per evidence partition, which real
Celery workers (separate processes, real Redis broker, the PostgreSQL test database) share."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from bigdata import partitions
from bigdata.matching import matching_run
from bigdata.models import MatchingChunk, MatchingRun
from config.celery import app as celery_app

from .test_run_safety import TODAY, _db_url, _population, _snapshot, _wipe

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def workers(require_postgres, redis_url):  # type: ignore[no-untyped-def]
    """Two worker processes on a queue of this test's own."""
    queue = f"bigdata-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _db_url(), "REDIS_URL": redis_url,
           "CELERY_TASK_ALWAYS_EAGER": "false"}
    celery = str(Path(sys.executable).with_name("celery"))
    procs = [
        subprocess.Popen(
            [celery, "-A", "config", "worker", "-Q", queue, "-c", "1", "--pool", "solo", "-n", f"w{i}-{queue}@%h",
             "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        for i in (1, 2)
    ]
    try:
        yield queue, redis_url
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_real_workers_share_one_night_in_chunks_and_reach_the_single_process_result(workers):
    queue, redis_url = workers
    _population()
    with celery_app.connection_for_write(redis_url) as conn:
        celery_app.send_task("bigdata.tasks.matching_nightly", connection=conn, queue=queue,
                             kwargs={"today": TODAY.isoformat(), "chunk_size": 7, "queue": queue})
    deadline = time.monotonic() + 120
    while not MatchingRun.objects.filter(status=MatchingRun.Status.DONE).exists():
        assert time.monotonic() < deadline, "the workers did not finish the run"
        time.sleep(0.2)
    run = MatchingRun.objects.get()
    # One chunk per evidence partition (chunk_size is accepted and ignored), each done once.
    assert sorted(run.chunks.values_list("pk_lo", "pk_hi")) == partitions.ranges()
    assert not MatchingChunk.objects.filter(done_at__isnull=True).exists()
    by_workers = _snapshot()
    totals = run.counts

    _wipe()
    _population()
    whole = matching_run(today=TODAY)
    assert by_workers == _snapshot()
    assert totals == {k: v for k, v in whole.items() if k != "seconds"}
