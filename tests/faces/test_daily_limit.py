"""After 5 failed attempts in a day the person is sent to the other channels and flagged for staff; the
failure page says how many tries are left, calls by tel: links, books a home visit, and promises a
call from staff only to people the staff queue holds."""

import datetime as dt

import time_machine

from certification.faces import services
from certification.models import Pensioner

from .conftest import clip_frames, send_attempt

NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _abandon(user, pensioner, n: int) -> None:  # type: ignore[no-untyped-def]
    """n failures the cheap way: sessions started and left (each counts as a failed attempt)."""
    consent = services.consent_record(user=user, pensioner=pensioner, mode="self")
    for _ in range(n):
        services.session_start(user=user, consent=consent)
    services.attempts_abandon(pensioner_id=pensioner.pk, expired_only=False)


def _fail_once(user, pensioner):  # type: ignore[no-untyped-def]
    return send_attempt(user, pensioner, [clip_frames()[6]] * 4)  # a still picture: no_liveness


@time_machine.travel(NOON, tick=True)
def test_the_fifth_failure_sets_the_staff_queue_flag_and_blocks_a_sixth_try(client, pensioner, pensioner_user, enrol):
    enrol(pensioner)
    _abandon(pensioner_user, pensioner, 4)
    assert Pensioner.objects.get(pk=pensioner.pk).face_attempts_exhausted_on is None
    last = _fail_once(pensioner_user, pensioner)
    assert last.reason == "no_liveness"
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
    assert "工作人员也会联系您" not in result  # active: not in the staff queue, so no promise of a call


@time_machine.travel(NOON, tick=True)
def test_staff_will_call_is_said_only_to_people_in_the_staff_queue(client, pensioner, pensioner_user, enrol):
    Pensioner.objects.filter(pk=pensioner.pk).update(status="warning")
    enrol(pensioner)
    _abandon(pensioner_user, pensioner, 5)
    client.force_login(pensioner_user)
    assert "工作人员也会联系您" in client.get("/face/").content.decode()


@time_machine.travel(NOON, tick=True)
def test_a_failure_page_gives_tries_left_a_retry_without_new_consent_tel_links_and_a_home_visit_link(
        client, pensioner, pensioner_user, enrol):
    pensioner.street_office.counter_phone = "0532-88880000"
    pensioner.street_office.save(update_fields=["counter_phone"])
    enrol(pensioner)
    client.force_login(pensioner_user)
    client.post("/face/", {"agree": "yes"})  # consent on the web, as the page does
    _abandon(pensioner_user, pensioner, 1)
    attempt = _fail_once(pensioner_user, pensioner)
    page = client.get(f"/face/result/{attempt.pk}/").content.decode()
    assert services.REASON_TEXT["no_liveness"] in page
    assert 'data-left="3"' in page and "今天还能再试 3 次" in page
    consent = services.consent_for_today(user=pensioner_user, pensioner=pensioner, mode="self")
    assert f'href="/face/capture/{consent.pk}/" id="face-retry"' in page  # straight back to the camera
    assert 'href="tel:0532-88880000"' in page
    assert 'href="/home-visit/request/"' in page


def test_the_next_day_the_person_may_try_again(pensioner, pensioner_user, enrol):
    enrol(pensioner)
    with time_machine.travel(NOON, tick=True):
        _abandon(pensioner_user, pensioner, 5)
        assert services.attempts_exhausted(pensioner)
    with time_machine.travel(NOON + dt.timedelta(days=1), tick=True):
        assert not services.attempts_exhausted(pensioner)
