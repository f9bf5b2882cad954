"""A real Celery worker on the real Redis runs real tasks against the test database."""

import datetime as dt

import pytest

from bigdata import partitions
from certification.models import Pensioner
from certification.tasks import ping, run_nightly_task
from tests.factories import PensionerFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_task_round_trips_through_redis_and_a_real_worker(celery_worker_process):
    worker = celery_worker_process()
    result = ping.apply_async(args=[41], queue=celery_worker_process.queue())
    assert result.get(timeout=60) == {"value": 41, "districts": 10}
    assert worker.poll() is None


def test_the_beat_nightly_task_fans_matching_out_in_chunks_then_finishes_the_night(celery_worker_process):
    import time

    from bigdata.models import MatchingRun
    from certification.dashboards.models import Snapshot

    people = [PensionerFactory(valid_until=dt.date(2026, 9, 30)) for _ in range(3)]
    celery_worker_process()
    queue = celery_worker_process.queue()
    result = run_nightly_task.apply_async(kwargs={"today": "2026-10-01", "queue": queue, "chunk_size": 1}, queue=queue)
    planned = result.get(timeout=120)
    assert planned["chunks"] == partitions.PARTITIONS  # one per evidence partition; chunk_size is ignored
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not Snapshot.objects.filter(day=dt.date(2026, 10, 1)).exists():
        time.sleep(0.5)
    # Every chunk ran, the run closed, and only then did the rest of the night run.
    run = MatchingRun.objects.get(pk=planned["matching_run"])
    assert run.status == MatchingRun.Status.DONE and run.chunks.filter(done_at__isnull=True).count() == 0
    assert Snapshot.objects.filter(day=dt.date(2026, 10, 1)).exists()
    assert sorted(Pensioner.objects.filter(pk__in=[p.pk for p in people]).values_list("status", flat=True)) == [
        "warning"] * 3
