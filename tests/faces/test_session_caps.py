"""Sessions: one open session per person, a capped number of starts a day, an abandoned session is a
failed attempt, and the daily failure cap is checked when an attempt is created (at session start)."""

import datetime as dt

import time_machine

from certification.faces import services
from certification.faces.models import FaceAttempt
from certification.models import Pensioner

from .conftest import clip_frames, uploads

NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _start(client):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/faces/sessions/", {"mode": "self", "consent": True}, content_type="application/json")


@time_machine.travel(NOON, tick=True)
def test_a_new_start_closes_the_open_session_as_a_failed_abandoned_attempt(client, pensioner, pensioner_user, enrol):
    enrol(pensioner)
    client.force_login(pensioner_user)
    first = _start(client).json()
    second = _start(client).json()
    assert FaceAttempt.objects.filter(pensioner=pensioner, state="capturing").count() == 1  # one open session
    old = FaceAttempt.objects.get(session__nonce=first["session_id"])
    assert (old.state, old.passed, old.reason) == ("done", False, "abandoned")
    r = client.post(first["frames_url"], {"frames": uploads(clip_frames()[:2])})
    assert (r.status_code, r.json()["code"]) == (409, "session_closed")
    assert client.post(second["frames_url"], {"frames": uploads(clip_frames()[:2])}).status_code == 202
    assert services.failures_today(pensioner) == 1


@time_machine.travel(NOON, tick=True)
def test_opening_sessions_first_cannot_bypass_the_failure_cap(client, pensioner, pensioner_user, enrol):
    # The reported bypass: open many sessions, then fail each. Every start closes the last one as a
    # failure, so after 5 the next start is refused and the person is flagged for staff.
    enrol(pensioner)
    client.force_login(pensioner_user)
    assert [_start(client).status_code for _ in range(5)] == [201] * 5
    r = _start(client)  # closes the fifth as the fifth failure, then refuses
    assert (r.status_code, r.json()["code"]) == (429, "attempts_exhausted")
    assert services.failures_today(pensioner) == 5 and not FaceAttempt.objects.filter(state="capturing").exists()
    assert Pensioner.objects.get(pk=pensioner.pk).face_attempts_exhausted_on == dt.date(2026, 11, 20)


@time_machine.travel(NOON, tick=True)
def test_session_starts_are_capped_per_day_even_when_nothing_failed(client, pensioner, pensioner_user, enrol, settings):
    settings.FACE_MAX_FAILED_PER_DAY = 100
    settings.FACE_MAX_SESSIONS_PER_DAY = 3
    enrol(pensioner)
    client.force_login(pensioner_user)
    assert [_start(client).status_code for _ in range(3)] == [201] * 3
    r = _start(client)
    assert (r.status_code, r.json()["code"]) == (429, "sessions_exhausted")
    assert "明天再试" in r.json()["message"]
    with time_machine.travel(NOON + dt.timedelta(days=1), tick=True):
        client.force_login(pensioner_user)  # the web session itself has timed out overnight
        assert _start(client).status_code == 201


def test_an_expired_open_session_is_closed_as_abandoned_by_the_purge(pensioner, pensioner_user, enrol):
    enrol(pensioner)
    with time_machine.travel(NOON, tick=False) as clock:
        consent = services.consent_record(user=pensioner_user, pensioner=pensioner, mode="self")
        session = services.session_start(user=pensioner_user, consent=consent)
        services.frames_add(nonce=session.nonce, user=pensioner_user, frames=clip_frames()[:3])
        clock.shift(dt.timedelta(seconds=60))
        services.frames_purge()
        assert FaceAttempt.objects.get(session=session).state == "capturing"  # still within its 2 minutes
        clock.shift(dt.timedelta(seconds=61))
        services.frames_purge()
    attempt = FaceAttempt.objects.get(session=session)
    assert (attempt.state, attempt.passed, attempt.reason) == ("done", False, "abandoned")
    assert attempt.frames_deleted_at is not None
    assert services.failures_today(pensioner, dt.date(2026, 11, 20)) == 1
