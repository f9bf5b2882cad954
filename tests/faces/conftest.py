"""Face tests use real photos and real frames (tests/fixtures/faces) and the real library."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import pytest

FACES = Path(__file__).resolve().parent.parent / "fixtures" / "faces"
CLIP = FACES / "clip"


def photo(name: str) -> bytes:
    return (FACES / name).read_bytes()


def clip_frames() -> list[bytes]:
    """12 frames of the hamilton clip (15 fps extraction, frames 60-117), in time order."""
    return [p.read_bytes() for p in sorted(CLIP.glob("*.jpg"))]


@pytest.fixture(autouse=True)
def _celery_eager_and_clean_cache(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Tasks run inline here also when REDIS_URL is set (CI); rate-limit counters start at zero;
    frames go to a per-test media folder."""
    from django.core.cache import cache

    from config.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()
    yield
    app.conf.task_always_eager = old


@pytest.fixture
def enrol():  # type: ignore[no-untyped-def]
    from certification.faces import services
    from certification.faces.models import ReferenceFace

    def do(pensioner, name: str = "lin_manuel_miranda_1.jpg"):  # type: ignore[no-untyped-def]
        return services.reference_enroll(pensioner=pensioner, image=photo(name), source=ReferenceFace.Source.COMMAND)

    return do


@pytest.fixture
def pensioner(db):  # type: ignore[no-untyped-def]
    from tests.factories import PensionerFactory

    return PensionerFactory(name="林曼努", valid_until=dt.date(2026, 12, 1), phone="13900000001")


@pytest.fixture
def pensioner_user(pensioner):  # type: ignore[no-untyped-def]
    from certification.models import Role, User

    return User.objects.create(username=f"p{pensioner.pk}", role=Role.PENSIONER, pensioner=pensioner)


@pytest.fixture
def relative_user(db):  # type: ignore[no-untyped-def]
    from certification.models import Role, User

    return User.objects.create(username="relative1", role=Role.RELATIVE, phone="13800000009",
                               first_name="小明", last_name="林")


# The clip's honest schedule: the 12 committed frames sent one every 200 ms show a turn to the right
# at frames 3-5 (0079-0083), the head back at the front, and a second turn to the right at frame 11
# (0117). Production draws the sides and the moments at random (services.schedule_pick); a recording
# can only meet its own.
CLIP_SCHEDULE = [{"kind": "turn_right", "at_ms": 300}, {"kind": "turn_right", "at_ms": 1300}]
CLIP_STEP_MS = 200


@pytest.fixture
def fixed_challenge(monkeypatch):  # type: ignore[no-untyped-def]
    """Pin the server's schedule (kinds, order and moments) to what a clip shows."""
    from certification.faces import services

    def pin(schedule: list[dict], capture_ms: int | None = None) -> None:
        end = capture_ms if capture_ms is not None else schedule[-1]["at_ms"] + 4500
        monkeypatch.setattr(services, "schedule_pick", lambda: ([dict(x) for x in schedule], end))

    pin(CLIP_SCHEDULE)
    return pin


def send_attempt(user, pensioner, frames: list[bytes], *, step_ms: int = CLIP_STEP_MS, mode: str = "self",
                 consent=None):  # type: ignore[no-untyped-def]
    """One attempt through the real services: a session, each frame arriving `step_ms` after the last
    (the server's clock, pinned by passing `now`), the finish, the check. Returns the decided attempt."""
    from certification.faces import services

    consent = consent or services.consent_record(user=user, pensioner=pensioner, mode=mode)
    session = services.session_start(user=user, consent=consent)
    t0 = session.created_at
    for i, f in enumerate(frames):
        services.frames_add(nonce=session.nonce, user=user, frames=[f], now=t0 + dt.timedelta(milliseconds=i * step_ms))
    attempt = services.attempt_finish(nonce=session.nonce, user=user,
                                      now=t0 + dt.timedelta(milliseconds=len(frames) * step_ms))
    return services.attempt_dispatch(attempt=attempt)


@functools.cache
def reference_of(name: str = "lin_manuel_miranda_1.jpg"):  # type: ignore[no-untyped-def]
    from certification.faces import engine
    from certification.faces.services import photo_limits

    return engine.photo_encoding(photo(name), photo_limits())


def verify_frames(frames: list[bytes], schedule=None, *, step_ms: int = CLIP_STEP_MS, arrived_ms=None,
                  reference: str = "lin_manuel_miranda_1.jpg"):  # type: ignore[no-untyped-def]
    """The production engine on frames arriving every `step_ms`, with the shipped thresholds."""
    from django.conf import settings

    from certification.faces import engine
    from certification.faces.services import frame_limits

    schedule = CLIP_SCHEDULE if schedule is None else schedule
    return engine.verify(
        frames, arrived_ms=arrived_ms or [i * step_ms for i in range(len(frames))],
        prompts=[engine.Prompt(x["kind"], x["at_ms"]) for x in schedule], reference=reference_of(reference),
        tolerance=settings.FACE_TOLERANCE, limits=frame_limits(), face_share=settings.FACE_LIVENESS_FACE_SHARE,
        splice_tolerance=settings.FACE_SPLICE_TOLERANCE,
    )


def uploads(frames: list[bytes]) -> list:  # type: ignore[type-arg]
    from django.core.files.uploadedfile import SimpleUploadedFile

    return [SimpleUploadedFile(f"f{i}.jpg", b, content_type="image/jpeg") for i, b in enumerate(frames)]


def post_frames(client, session: dict, frames: list[bytes], *, step_ms: int = CLIP_STEP_MS, chunk: int = 3):  # type: ignore[no-untyped-def]
    """Send frames through the HTTP API as the page does: chunks as captured, then done=1.
    The server's clock is moved so frame i arrives i × step_ms after the session started."""
    import time_machine

    from certification.faces.models import FaceSession

    t0 = FaceSession.objects.get(nonce=session["session_id"]).created_at
    with time_machine.travel(t0, tick=False) as clock:
        for i in range(0, len(frames), chunk):
            clock.move_to(t0 + dt.timedelta(milliseconds=(i + chunk - 1) * step_ms))
            r = client.post(session["frames_url"], {"frames": uploads(frames[i:i + chunk])})
            assert r.status_code == 202, r.content
        clock.move_to(t0 + dt.timedelta(milliseconds=len(frames) * step_ms))
        return client.post(session["frames_url"], {"done": "1"})
