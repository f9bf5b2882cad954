"""Production path: the check runs in a real Celery worker on the `face` queue, not in the web process."""

import datetime as dt
import time

import pytest

from certification.faces import services
from certification.faces.models import FaceAttempt

from .conftest import clip_frames

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture
def shared_media(settings, monkeypatch):  # type: ignore[no-untyped-def]
    """The worker subprocess must read the frames the web process stored."""
    monkeypatch.setenv("MEDIA_ROOT", settings.MEDIA_ROOT)


def test_face_tasks_are_routed_to_the_face_queue(settings):
    from config.celery import app

    route = app.amqp.router.route({}, "certification.faces.tasks.face_attempt_verify")
    assert route["queue"].name == "face"


def test_a_real_worker_on_the_face_queue_decides_the_attempt(
        shared_media, celery_worker_process, pensioner, pensioner_user, enrol, fixed_challenge):
    from certification.faces.tasks import face_attempt_verify

    enrol(pensioner)
    consent = services.consent_record(user=pensioner_user, pensioner=pensioner, mode="self")
    session = services.session_start(user=pensioner_user, consent=consent)
    t0 = session.created_at
    for i, frame in enumerate(clip_frames()):
        services.frames_add(nonce=session.nonce, user=pensioner_user, frames=[frame],
                            now=t0 + dt.timedelta(milliseconds=200 * i))
    attempt = services.attempt_finish(nonce=session.nonce, user=pensioner_user, now=t0 + dt.timedelta(seconds=2.4))
    assert attempt.state == "pending"

    celery_worker_process(queues="face")
    face_attempt_verify.apply_async(args=[attempt.pk], queue=celery_worker_process.queue("face"))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        attempt.refresh_from_db()
        if attempt.state == FaceAttempt.State.DONE:
            break
        time.sleep(0.5)
    assert attempt.state == "done", (celery_worker_process.log_dir / "worker-0.log").read_text()[-2000:]
    assert attempt.passed is True and attempt.certification is not None
    assert attempt.frames_deleted_at is not None
