"""The server leads the challenge: a nonce, prompts issued one at a time at moments it chose, frames
stamped on arrival, one use, and the page learns a prompt only once it has been issued."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from certification.faces import engine, services
from certification.faces.models import Consent, FaceAttempt, FaceSession

from .conftest import clip_frames, uploads


def _start(client):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/faces/sessions/", {"mode": "self", "consent": True}, content_type="application/json")


def test_the_schedule_has_two_head_turns_of_random_sides_at_random_moments_within_the_documented_ranges():
    seen_orders, firsts = set(), set()
    for _ in range(200):
        schedule, end = services.schedule_pick()
        kinds = [x["kind"] for x in schedule]
        assert len(kinds) == 2 and set(kinds) <= {"turn_left", "turn_right"}
        first, second = (x["at_ms"] for x in schedule)
        assert 1000 <= first <= 3000 and 4000 <= second - first <= 5500
        assert end == second + engine.PROMPT_RESPONSE_MS + 500
        seen_orders.add(tuple(kinds))
        firsts.add(first)
    assert len(seen_orders) == 4 and len(firsts) > 10  # left-left, left-right, right-left, right-right; many moments


def test_a_session_reveals_no_prompt_ahead_of_its_moment(client, pensioner, pensioner_user, enrol, fixed_challenge):
    fixed_challenge([{"kind": "open_mouth", "at_ms": 1500}, {"kind": "turn_left", "at_ms": 6000}], 10_500)
    enrol(pensioner)
    client.force_login(pensioner_user)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        body = _start(client).json()
        assert "challenge" not in body and "prompts" not in body and body["prompts_count"] == 2
        t0 = FaceSession.objects.get(nonce=body["session_id"]).created_at

        def at(ms: int) -> dict:
            clock.move_to(t0 + dt.timedelta(milliseconds=ms))
            return client.get(body["prompt_url"]).json()

        assert at(1400) == {"step": 0, "of": 2, "prompt": "", "text": "请看着屏幕，准备好", "done": False}
        assert at(1500)["prompt"] == "open_mouth" and at(5999)["text"] == "请张张嘴"
        assert at(6000) == {"step": 2, "of": 2, "prompt": "turn_left", "text": "请慢慢向左转头", "done": False}
        assert at(10_500)["done"] is True


def test_frames_are_stamped_with_the_servers_arrival_time(client, pensioner, pensioner_user, enrol):
    enrol(pensioner)
    client.force_login(pensioner_user)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        body = _start(client).json()
        t0 = FaceSession.objects.get(nonce=body["session_id"]).created_at
        for ms in (250, 900):
            clock.move_to(t0 + dt.timedelta(milliseconds=ms))
            r = client.post(body["frames_url"], {"frames": uploads(clip_frames()[:3])})
            assert r.status_code == 202
    attempt = FaceAttempt.objects.get(session__nonce=body["session_id"])
    assert attempt.arrivals_ms == [250] * 3 + [900] * 3 and attempt.state == "capturing"
    assert r.json() == {"received": 6}


def test_the_mirrored_flag_is_gone_the_server_never_takes_the_clients_word(client, pensioner, pensioner_user, enrol):
    assert "mirrored" not in {f.name for f in FaceAttempt._meta.get_fields()}
    enrol(pensioner)
    client.force_login(pensioner_user)
    body = _start(client).json()
    r = client.post(body["frames_url"], {"frames": uploads(clip_frames()[:2]), "mirrored": "true"})
    assert r.status_code == 202  # accepted as raw frames; nothing stores or reads the flag


def test_consent_is_recorded_before_the_session(client, pensioner, pensioner_user, enrol):
    enrol(pensioner)
    client.force_login(pensioner_user)
    _start(client)
    c = Consent.objects.get(user=pensioner_user)
    assert (c.pensioner, c.mode, c.channel) == (pensioner, "self", "api")


def test_no_consent_no_session(client, pensioner, pensioner_user, enrol):
    enrol(pensioner)
    client.force_login(pensioner_user)
    r = client.post("/api/v1/faces/sessions/", {"mode": "self"}, content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (400, "no_consent")
    assert not FaceSession.objects.exists()


def test_a_session_past_its_expiry_fails_as_expired_and_counts_as_a_failure(client, pensioner, pensioner_user, enrol):
    enrol(pensioner)
    client.force_login(pensioner_user)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        body = _start(client).json()
        traveller.shift(dt.timedelta(seconds=121))
        late = client.post(body["frames_url"], {"frames": uploads(clip_frames()[:3])})
        r = client.post(body["frames_url"], {"done": "1"})
    assert (late.status_code, late.json()["code"]) == (409, "expired")
    assert r.status_code == 200 and (r.json()["status"], r.json()["reason"]) == ("failed", "expired")
    assert services.failures_today(pensioner) == 1
    assert "超时" in client.get(r.json()["result_url"]).content.decode()


def test_a_session_is_good_for_one_finish_only(client, pensioner, pensioner_user, enrol):
    enrol(pensioner)
    client.force_login(pensioner_user)
    body = _start(client).json()
    client.post(body["frames_url"], {"frames": uploads([clip_frames()[6]] * 4)})
    assert client.post(body["frames_url"], {"done": "1"}).json()["reason"] == "no_liveness"
    again = client.post(body["frames_url"], {"frames": uploads(clip_frames()[:2]), "done": "1"})
    assert (again.status_code, again.json()["code"]) == (409, "session_used")
    assert FaceAttempt.objects.count() == 1


def test_someone_elses_session_is_unknown(client, pensioner, pensioner_user, enrol, relative_user):
    enrol(pensioner)
    client.force_login(pensioner_user)
    body = _start(client).json()
    client.force_login(relative_user)
    r = client.post(body["frames_url"], {"frames": uploads(clip_frames()[:2])})
    assert (r.status_code, r.json()["code"]) == (404, "no_session")
    assert client.get(body["prompt_url"]).status_code == 404


def test_a_pensioner_without_a_reference_is_told_to_go_to_the_counter(client, pensioner_user):
    client.force_login(pensioner_user)
    r = _start(client)
    assert (r.status_code, r.json()["code"]) == (409, "no_reference")
    assert "还没有登记您的认证照片" in client.get("/face/").content.decode()


@pytest.mark.parametrize("attempt_id", [999999, 2**70])
def test_an_unknown_attempt_is_a_404_not_a_500(client, pensioner_user, attempt_id):
    client.force_login(pensioner_user)
    assert client.get(f"/api/v1/faces/attempts/{attempt_id}/").status_code == 404


def test_the_consent_page_tells_how_long_frames_are_kept(client, pensioner, pensioner_user, enrol, settings):
    enrol(pensioner)
    client.force_login(pensioner_user)
    assert "照片马上删除" in client.get("/face/").content.decode()
    settings.FACE_FRAME_RETENTION_DAYS = 7
    assert "照片保存 7 天后删除" in client.get("/face/").content.decode()


def test_agreeing_records_consent_and_the_consent_holds_for_the_day(client, pensioner, pensioner_user, enrol):
    enrol(pensioner)
    client.force_login(pensioner_user)
    with time_machine.travel(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False) as clock:
        r = client.post("/face/", {"agree": "yes"})
        consent = Consent.objects.get(user=pensioner_user, channel="web")
        assert r.status_code == 302 and r["Location"] == f"/face/capture/{consent.pk}/"
        page = client.get(r["Location"]).content.decode()
        assert "faces/capture.js" in page and f'"consentId": {consent.pk}' in page
        for _ in range(2):  # two sessions on one consent: a retry does not ask again
            assert client.post("/api/v1/faces/sessions/", {"consent_id": consent.pk},
                               content_type="application/json").status_code == 201
        clock.move_to(dt.datetime(2026, 11, 21, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=8))))
        client.force_login(pensioner_user)  # the idle limit ended the session overnight: sign in again
        assert client.get(f"/face/capture/{consent.pk}/")["Location"] == "/face/"  # the next day: ask again
        r = client.post("/api/v1/faces/sessions/", {"consent_id": consent.pk}, content_type="application/json")
        assert (r.status_code, r.json()["code"]) == (400, "no_consent")


def test_a_pensioner_recorded_as_deceased_is_sent_to_their_page_not_the_camera(client, pensioner, pensioner_user, enrol):
    # With a reference photo, the consent page would lead to the camera; the record says deceased,
    # so the page sends them to /me/ where the appeal is, and no consent is recorded.
    enrol(pensioner)
    pensioner.status = "deceased"
    pensioner.save(update_fields=["status"])
    client.force_login(pensioner_user)
    for resp in (client.get("/face/"), client.post("/face/", {"agree": "yes"})):
        assert resp.status_code == 302 and resp["Location"] == "/me/"
    assert not Consent.objects.filter(user=pensioner_user).exists()
    assert "暂时不能刷脸认证" in client.get("/me/").content.decode()
