"""The server's challenge: two different random prompts, a nonce, 2 minutes, one use."""

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from certification.faces import engine, services
from certification.faces.models import Consent, FaceAttempt, FaceSession

from .conftest import clip_frames


def _start(client):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/faces/sessions/", {"mode": "self", "consent": True}, content_type="application/json")


def _frames(frames):  # type: ignore[no-untyped-def]
    return {"frames": [SimpleUploadedFile(f"f{i}.jpg", b, content_type="image/jpeg") for i, b in enumerate(frames)]}


def test_a_session_carries_two_different_prompts_a_nonce_and_a_two_minute_expiry(client, pensioner, pensioner_user, enrol):
    enrol(pensioner)
    client.force_login(pensioner_user)
    seen = set()
    for _ in range(6):
        r = _start(client)
        assert r.status_code == 201
        body = r.json()
        assert len(body["challenge"]) == 2 and len(set(body["challenge"])) == 2
        assert set(body["challenge"]) <= set(engine.PROMPTS)
        assert body["prompts"] == [services.PROMPT_TEXT[c] for c in body["challenge"]]
        seen.add(body["session_id"])
        s = FaceSession.objects.get(nonce=body["session_id"])
        assert abs((s.expires_at - s.created_at) - dt.timedelta(seconds=120)) < dt.timedelta(seconds=1)
    assert len(seen) == 6  # fresh nonce each time


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


def test_frames_sent_after_two_minutes_fail_as_challenge_expired(client, pensioner, pensioner_user, enrol, fixed_challenge):
    enrol(pensioner)
    client.force_login(pensioner_user)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        url = _start(client).json()["frames_url"]
        traveller.shift(dt.timedelta(seconds=121))
        r = client.post(url, _frames(clip_frames()))
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["reason"]) == ("failed", "expired")
    page = client.get(r.json()["result_url"]).content.decode()
    assert "超时" in page


def test_a_session_is_good_for_one_upload_only(client, pensioner, pensioner_user, enrol, fixed_challenge):
    enrol(pensioner)
    client.force_login(pensioner_user)
    url = _start(client).json()["frames_url"]
    assert client.post(url, _frames(clip_frames())).status_code == 200
    again = client.post(url, _frames(clip_frames()))
    assert (again.status_code, again.json()["code"]) == (409, "session_used")
    assert FaceAttempt.objects.count() == 1


def test_someone_elses_session_is_unknown(client, pensioner, pensioner_user, enrol, relative_user):
    enrol(pensioner)
    client.force_login(pensioner_user)
    url = _start(client).json()["frames_url"]
    client.force_login(relative_user)
    r = client.post(url, _frames(clip_frames()))
    assert (r.status_code, r.json()["code"]) == (404, "no_session")


def test_a_pensioner_without_a_reference_is_told_to_go_to_the_counter(client, pensioner_user):
    client.force_login(pensioner_user)
    r = _start(client)
    assert (r.status_code, r.json()["code"]) == (409, "no_reference")
    page = client.get("/face/").content.decode()
    assert "还没有登记您的认证照片" in page


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


def test_agreeing_records_consent_and_opens_the_camera_page(client, pensioner, pensioner_user, enrol):
    enrol(pensioner)
    client.force_login(pensioner_user)
    r = client.post("/face/", {"agree": "yes"})
    consent = Consent.objects.get(user=pensioner_user, channel="web")
    assert r.status_code == 302 and r["Location"] == f"/face/capture/{consent.pk}/"
    page = client.get(r["Location"]).content.decode()
    assert "faces/capture.js" in page and f'"consentId": {consent.pk}' in page
