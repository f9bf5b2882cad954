"""After 5 failed attempts in a day the person is sent to the other channels and flagged for staff."""

import datetime as dt

import time_machine

from certification.faces import services
from certification.models import Pensioner

from .conftest import clip_frames

NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _fail_once(user, pensioner):  # type: ignore[no-untyped-def]
    consent = services.consent_record(user=user, pensioner=pensioner, mode="self")
    session = services.session_start(user=user, consent=consent)
    still = clip_frames()[6]
    attempt = services.attempt_create(nonce=session.nonce, user=user, frames=[still] * 6)
    return services.attempt_dispatch(attempt=attempt)


@time_machine.travel(NOON, tick=True)
def test_the_fifth_failure_sets_the_staff_queue_flag_and_blocks_a_sixth_try(client, pensioner, pensioner_user, enrol):
    enrol(pensioner)
    for _ in range(4):
        assert _fail_once(pensioner_user, pensioner).passed is False
    assert Pensioner.objects.get(pk=pensioner.pk).face_attempts_exhausted_on is None
    last = _fail_once(pensioner_user, pensioner)
    assert Pensioner.objects.get(pk=pensioner.pk).face_attempts_exhausted_on == dt.date(2026, 11, 20)
    assert services.verdict_for(last).exhausted is True

    client.force_login(pensioner_user)
    r = client.post("/api/v1/faces/sessions/", {"mode": "self", "consent": True}, content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (429, "attempts_exhausted")
    page = client.get("/face/").content.decode()
    for channel in ("到服务窗口认证", "视频认证", "上门认证"):
        assert channel in page
    result = client.get(f"/face/result/{last.pk}/").content.decode()
    assert "不能再试了" in result and 'id="face-retry"' not in result


@time_machine.travel(NOON, tick=True)
def test_a_failure_offers_a_retry_and_the_other_channels(client, pensioner, pensioner_user, enrol):
    enrol(pensioner)
    attempt = _fail_once(pensioner_user, pensioner)
    client.force_login(pensioner_user)
    page = client.get(f"/face/result/{attempt.pk}/").content.decode()
    assert services.REASON_TEXT["no_liveness"] in page
    assert 'id="face-retry"' in page and "上门认证" in page


def test_the_next_day_the_person_may_try_again(pensioner, pensioner_user, enrol):
    enrol(pensioner)
    with time_machine.travel(NOON, tick=True):
        for _ in range(5):
            _fail_once(pensioner_user, pensioner)
        assert services.attempts_exhausted(pensioner)
    with time_machine.travel(NOON + dt.timedelta(days=1), tick=True):
        assert not services.attempts_exhausted(pensioner)
