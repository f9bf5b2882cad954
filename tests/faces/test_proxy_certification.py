"""给他人认证: a relative certifies a pensioner from the relative's own account and device."""

import datetime as dt

import pytest
import time_machine

from certification.faces import services
from certification.models import Certification, Role, User
from certification.services import certification_record
from tests.factories import PensionerFactory

from .conftest import clip_frames, post_frames

NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _start(client, id_number, name, relationship="子女"):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/faces/sessions/", {"mode": "proxy", "consent": True, "id_number": id_number,
                                                   "name": name, "relationship": relationship},
                       content_type="application/json")


@time_machine.travel(NOON, tick=True)
def test_a_proxy_pass_is_recorded_with_the_helper_sms_to_the_pensioner_and_shown_in_their_history(
        client, pensioner, pensioner_user, relative_user, enrol, fixed_challenge, sent_sms,
        django_capture_on_commit_callbacks):
    enrol(pensioner)
    client.force_login(relative_user)
    r = _start(client, pensioner.id_number, pensioner.name, "子女")
    assert r.status_code == 201, r.content
    with django_capture_on_commit_callbacks(execute=True):
        verdict = post_frames(client, r.json(), clip_frames()).json()
    assert verdict["status"] == "passed", verdict

    cert = Certification.objects.get(pensioner=pensioner)
    assert (cert.method, cert.helper, cert.helper_relationship) == ("face_proxy", relative_user, "子女")
    sms = [m for m in sent_sms() if m["phone"] == pensioner.phone]
    assert len(sms) == 1 and "林小明" in sms[0]["text"], sent_sms()

    client.force_login(pensioner_user)
    history = client.get("/me/").content.decode()
    row = history[history.index("亲属代为刷脸认证"):][:300]
    assert "代为认证" in row and "林小明" in row and "子女" in row, row


@pytest.fixture
def uniform_cases(pensioner, enrol):  # type: ignore[no-untyped-def]
    enrol(pensioner)
    dead = PensionerFactory(name="王故", status="deceased", death_date=dt.date(2026, 1, 1))
    enrol(dead)
    no_ref = PensionerFactory(name="李无照")
    return {
        "unknown ID": ("370202195001019999", "林曼努"),
        "wrong name": (pensioner.id_number, "林曼"),
        "deceased": (dead.id_number, dead.name),
        "no reference photo": (no_ref.id_number, no_ref.name),
    }


def test_a_wrong_id_a_wrong_name_and_an_unknown_person_get_the_same_answer(client, relative_user, uniform_cases):
    client.force_login(relative_user)
    answers = set()
    for id_number, name in uniform_cases.values():
        r = _start(client, id_number, name)
        answers.add((r.status_code, r.content))
    assert len(answers) == 1
    status, body = answers.pop()
    assert status == 404 and services.PROXY_NOT_FOUND in body.decode()


def test_the_web_form_gives_the_same_answer_for_every_mismatch(client, relative_user, uniform_cases):
    client.force_login(relative_user)
    pages = set()
    for id_number, name in uniform_cases.values():
        r = client.post("/face/proxy/", {"id_number": id_number, "name": name, "relationship": "子女", "agree": "on"})
        assert r.status_code == 200
        html = r.content.decode()
        start = html.index('id="proxy-error"')
        pages.add(html[start:html.index("</p>", start)])
    assert len(pages) == 1 and services.PROXY_NOT_FOUND in pages.pop()


def test_lookups_are_rate_limited_per_helper(client, relative_user, pensioner, enrol, settings):
    settings.FACE_PROXY_HELPER_PER_HOUR = 3
    enrol(pensioner)
    client.force_login(relative_user)
    for i in range(3):
        assert _start(client, f"37020219500101{i:04d}", "某人").status_code == 404
    r = _start(client, pensioner.id_number, pensioner.name)  # even the right person now
    assert (r.status_code, r.json()["code"]) == (429, "rate_limited")


def test_lookups_are_rate_limited_per_target_across_helpers(client, pensioner, enrol, settings):
    settings.FACE_PROXY_TARGET_PER_HOUR = 2
    enrol(pensioner)
    helpers = [User.objects.create(username=f"rel{i}", role=Role.RELATIVE, phone=f"1380000010{i}") for i in range(3)]
    codes = []
    for h in helpers:
        client.force_login(h)
        codes.append(_start(client, pensioner.id_number, "猜名字").status_code)
    assert codes == [404, 404, 429]


@time_machine.travel(NOON, tick=True)
def test_one_helper_may_certify_at_most_three_distinct_pensioners_a_year(client, relative_user, enrol):
    people = [PensionerFactory(name=f"老人{i}") for i in range(4)]
    for p in people:
        enrol(p)
    for p in people[:3]:
        certification_record(pensioner=p, method="face_proxy", occurred_on=dt.date(2026, 3, 1),
                             helper=relative_user, helper_relationship="子女")
    client.force_login(relative_user)
    r = _start(client, people[3].id_number, people[3].name)
    assert (r.status_code, r.json()["code"]) == (403, "proxy_limit")
    assert _start(client, people[0].id_number, people[0].name).status_code == 201  # one of the three: fine


@time_machine.travel(NOON, tick=True)
def test_certifications_older_than_twelve_months_do_not_count_towards_the_limit(client, relative_user, enrol):
    people = [PensionerFactory(name=f"老人{i}") for i in range(4)]
    for p in people:
        enrol(p)
    for p in people[:3]:
        certification_record(pensioner=p, method="face_proxy", occurred_on=dt.date(2025, 11, 1),
                             helper=relative_user, helper_relationship="子女")
    client.force_login(relative_user)
    assert _start(client, people[3].id_number, people[3].name).status_code == 201


def test_the_proxy_check_is_made_against_the_pensioners_reference(client, relative_user, pensioner, enrol, fixed_challenge):
    enrol(pensioner, "obama_1.jpg")  # the camera shows someone else
    client.force_login(relative_user)
    session = _start(client, pensioner.id_number, pensioner.name).json()
    verdict = post_frames(client, session, clip_frames()).json()
    assert (verdict["status"], verdict["reason"]) == ("failed", "no_match")
    assert not Certification.objects.exists()


def test_roles_are_kept_apart(client, pensioner, pensioner_user, relative_user, enrol):
    enrol(pensioner)
    client.force_login(pensioner_user)
    assert _start(client, pensioner.id_number, pensioner.name).status_code == 403
    client.force_login(relative_user)
    r = client.post("/api/v1/faces/sessions/", {"mode": "self", "consent": True}, content_type="application/json")
    assert r.status_code == 403
    assert client.get("/face/").status_code == 403
