"""A real Celery worker on the real Redis runs real tasks against the test database."""

import datetime as dt

import pytest

from certification.models import Pensioner
from certification.tasks import ping, run_nightly_task
from tests.factories import PensionerFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_task_round_trips_through_redis_and_a_real_worker(celery_worker_process):
    worker = celery_worker_process()
    result = ping.apply_async(args=[41], queue=celery_worker_process.queue())
    assert result.get(timeout=60) == {"value": 41, "districts": 10}
    assert worker.poll() is None


def test_the_nightly_task_runs_in_the_worker_and_moves_statuses(celery_worker_process):
    p = PensionerFactory(valid_until=dt.date(2026, 9, 30))
    celery_worker_process()
    result = run_nightly_task.apply_async(kwargs={"today": "2026-10-01"}, queue=celery_worker_process.queue())
    out = result.get(timeout=120)
    assert out["matching"]["entered_warning"] + out["transitions"]["entered_warning"] == 1
    assert Pensioner.objects.get(pk=p.pk).status == "warning"
