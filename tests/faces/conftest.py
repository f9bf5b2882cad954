"""Face tests use real photos and real frames (tests/fixtures/faces) and the real library."""

from __future__ import annotations

import datetime as dt
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


@pytest.fixture
def fixed_challenge(monkeypatch):  # type: ignore[no-untyped-def]
    """Pin the random challenge. Production draws two prompts at random; a recorded clip
    can only honestly meet the motions it contains (a head turn to the right, then an open mouth)."""
    from certification.faces import services

    def pin(challenge: list[str]) -> None:
        monkeypatch.setattr(services, "challenge_pick", lambda: list(challenge))

    pin(["turn_right", "open_mouth"])
    return pin
