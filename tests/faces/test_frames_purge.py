"""PIPL: frames never outlive their retention. The purge is a bounded task that beat runs on its own
and that requeues itself while a batch comes back full; it also clears the frames of attempts stuck in
PENDING/RUNNING (a crashed worker), closes expired open sessions, and forgets old replay hashes."""

import datetime as dt
from pathlib import Path

import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command

from certification.faces import services, tasks
from certification.faces.models import FaceAttempt, FrameHash

from .conftest import clip_frames

T0 = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _stored(user, pensioner, *, state: str = "done") -> FaceAttempt:  # type: ignore[no-untyped-def]
    """An attempt with frames on disk, left in `state` (no engine run: the purge never looks at pixels)."""
    consent = services.consent_record(user=user, pensioner=pensioner, mode="self")
    session = services.session_start(user=user, consent=consent)
    services.frames_add(nonce=session.nonce, user=user, frames=clip_frames()[:3])
    FaceAttempt.objects.filter(session=session).update(state=state, passed=False if state == "done" else None,
                                                       reason="no_liveness" if state == "done" else "")
    return FaceAttempt.objects.get(session=session)


def test_beat_runs_the_purge_on_its_own_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["face-frames-purge"]
    assert entry["task"] == "certification.faces.tasks.frames_purge_task" and entry["schedule"] <= 3600


def test_a_backlog_larger_than_one_batch_is_cleared_by_the_task_requeueing_itself(
        pensioner, pensioner_user, enrol, settings, monkeypatch):
    settings.FACE_FRAME_RETENTION_DAYS = 7
    enrol(pensioner)
    with time_machine.travel(T0, tick=True):
        kept = [_stored(pensioner_user, pensioner) for _ in range(5)]
    monkeypatch.setattr(services, "PURGE_BATCH", 2)
    runs = []
    real = services.frames_purge_batch
    monkeypatch.setattr(services, "frames_purge_batch", lambda **kw: runs.append(1) or real(batch=2, **kw))
    with time_machine.travel(T0 + dt.timedelta(days=8), tick=True):
        tasks.frames_purge_task.delay()  # eager: each full batch queues the next
    assert len(runs) == 3  # 2 + 2 + 1
    media = Path(settings.MEDIA_ROOT)
    for a in kept:
        a.refresh_from_db()
        assert a.frames_deleted_at is not None and not (media / a.frames_dir).exists()


def test_frames_within_retention_stay_and_the_nightly_run_still_reports_the_purge(
        pensioner, pensioner_user, enrol, settings, capsys):
    settings.FACE_FRAME_RETENTION_DAYS = 7
    enrol(pensioner)
    with time_machine.travel(T0, tick=True):
        decided = _stored(pensioner_user, pensioner)
    media = Path(settings.MEDIA_ROOT)
    with time_machine.travel(T0 + dt.timedelta(days=6), tick=True):
        assert services.frames_purge() == 0
        assert (media / decided.frames_dir).is_dir()
    with time_machine.travel(T0 + dt.timedelta(days=8), tick=True):
        call_command("run_nightly", "--today", "2026-11-09")
    assert '"face_frames_purged": 1' in capsys.readouterr().out
    assert not (media / decided.frames_dir).exists()


def test_frames_of_an_attempt_stuck_in_running_are_purged_even_with_no_retention(pensioner, pensioner_user, enrol, settings):
    settings.FACE_FRAME_RETENTION_DAYS = 0
    enrol(pensioner)
    with time_machine.travel(T0, tick=True):
        stuck = _stored(pensioner_user, pensioner, state="running")
        queued = _stored(pensioner_user, pensioner, state="pending")
    media = Path(settings.MEDIA_ROOT)
    with time_machine.travel(T0 + dt.timedelta(minutes=10), tick=True):
        services.frames_purge()
        assert (media / stuck.frames_dir).is_dir()  # a busy worker may still get to it
    with time_machine.travel(T0 + dt.timedelta(minutes=31), tick=True):
        services.frames_purge()
    for a in (stuck, queued):
        a.refresh_from_db()
        assert not (media / a.frames_dir).exists() and a.frames_deleted_at is not None
        assert (a.state, a.passed, a.reason) == ("done", False, "unreadable")
    assert services.attempt_decide(attempt_id=stuck.pk).reason == "unreadable"  # a late redelivery finds nothing


def test_replay_hashes_are_forgotten_after_the_replay_window(pensioner, pensioner_user, enrol, settings):
    settings.FACE_REPLAY_DAYS = 30
    enrol(pensioner)
    with time_machine.travel(T0, tick=True):
        a = _stored(pensioner_user, pensioner)
        services.DatabaseReplayMemory().remember(a.pk, [1, 2, 3])
    with time_machine.travel(T0 + dt.timedelta(days=29), tick=True):
        services.frames_purge()
        assert FrameHash.objects.count() == 3
    with time_machine.travel(T0 + dt.timedelta(days=31), tick=True):
        services.frames_purge()
        assert FrameHash.objects.count() == 0
