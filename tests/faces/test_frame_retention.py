"""With a retention period, kept frames are deleted by the nightly run once they are older than it."""

import datetime as dt
from pathlib import Path

import time_machine
from django.core.management import call_command

from certification.faces import services
from certification.faces.models import FaceAttempt

from .conftest import clip_frames

T0 = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _attempt(user, pensioner, *, decide: bool):  # type: ignore[no-untyped-def]
    consent = services.consent_record(user=user, pensioner=pensioner, mode="self")
    session = services.session_start(user=user, consent=consent)
    attempt = services.attempt_create(nonce=session.nonce, user=user, frames=clip_frames()[:6])
    return services.attempt_dispatch(attempt=attempt) if decide else attempt


def test_the_nightly_run_purges_decided_frames_past_retention_and_leaves_queued_ones(
        pensioner, pensioner_user, enrol, settings, capsys):
    settings.FACE_FRAME_RETENTION_DAYS = 7
    enrol(pensioner)
    with time_machine.travel(T0, tick=True):
        decided = _attempt(pensioner_user, pensioner, decide=True)
        queued = _attempt(pensioner_user, pensioner, decide=False)
    media = Path(settings.MEDIA_ROOT)
    assert (media / decided.frames_dir).is_dir() and (media / queued.frames_dir).is_dir()

    with time_machine.travel(T0 + dt.timedelta(days=6), tick=True):
        assert services.frames_purge() == 0
    with time_machine.travel(T0 + dt.timedelta(days=8), tick=True):
        call_command("run_nightly", "--today", "2026-11-09")
    assert '"face_frames_purged": 1' in capsys.readouterr().out
    assert not (media / decided.frames_dir).exists()
    assert FaceAttempt.objects.get(pk=decided.pk).frames_deleted_at is not None
    assert (media / queued.frames_dir).is_dir()  # still waiting for the worker
