"""Issue 13 item 6: the home-visit request form answered whether an ID number and a name
match, with its own 10-an-hour limit and no per-ID limit. It now has the limits and the
uniform answer of "certify someone else", and behaves the same with or without a reference face."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse

from certification import idnumber
from certification.faces import services as face_services
from certification.faces.models import ReferenceFace
from certification.staff.models import HomeVisitRequest
from tests.factories import PensionerFactory, UserFactory
from tests.staff.helpers import two_offices, warning_person

pytestmark = pytest.mark.django_db

FORM = {"reason": "aged_80", "date1": "2026-12-03", "contact_phone": "13700000001"}


@pytest.fixture
def w(time_machine):
    time_machine.move_to("2026-11-30 10:00 +08:00", tick=False)
    cache.clear()
    a, *_ = two_offices()
    return dict(a=a, p=warning_person(a, name="孙玉兰"))


def _ask(client, id_number: str, name: str):  # type: ignore[no-untyped-def]
    return client.post(reverse("staff:home_visit_request"), {**FORM, "id_number": id_number, "name": name})


def _answer(resp) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    html = resp.content.decode()
    start = html.index("<main")
    body = html[start:html.index("</main>")]
    # The form echoes what was typed; the rest of the page must be identical.
    for v in ("孙玉兰", "别人"):
        body = body.replace(v, "")
    import re

    return resp.status_code, re.sub(r'value="[^"]*"', "", body)


def test_a_wrong_name_an_unknown_id_a_bad_id_and_a_deceased_person_get_the_same_answer(w, client):
    dead = PensionerFactory(name="别人", status="deceased", death_date=dt.date(2026, 10, 1))
    answers = []
    for i, (number, name) in enumerate([(w["p"].id_number, "别人"),
                                        (idnumber.make("370202", dt.date(1944, 4, 4), 777), "孙玉兰"),
                                        ("370202194404040000", "孙玉兰"),
                                        (dead.id_number, "别人")]):
        client.force_login(UserFactory(role="relative", phone=f"1360000000{i}"))
        answers.append(_answer(_ask(client, number, name)))
    assert len(set(answers)) == 1, answers
    assert answers[0][0] == 200 and "对不上" in answers[0][1]
    assert not HomeVisitRequest.objects.exists()


def test_one_id_number_is_limited_per_hour_across_helpers_and_across_the_proxy_form(w, client, settings):
    p = w["p"]
    # Three look-ups on the proxy face form and the rest on this form, by different relatives.
    for i in range(3):
        with pytest.raises(face_services.FaceDenied):
            face_services.proxy_target_find(helper=UserFactory(role="relative"), id_number=p.id_number, name=f"猜{i}")
    for i in range(settings.FACE_PROXY_TARGET_PER_HOUR - 3):
        client.force_login(UserFactory(role="relative"))
        assert "对不上" in _ask(client, p.id_number, f"再猜{i}").content.decode()
    client.force_login(UserFactory(role="relative"))
    resp = _ask(client, p.id_number, "孙玉兰")  # the right name, but the number is used up for the hour
    assert resp.status_code == 429
    assert not HomeVisitRequest.objects.exists()


def test_it_works_the_same_with_and_without_a_reference_face(w, client):
    with_face = PensionerFactory(name="有照片", street_office=w["a"], status="warning", valid_until=dt.date(2026, 11, 1))
    ReferenceFace.objects.create(pensioner=with_face, encoding=b"\0" * 1024, source="bulk")
    for p in (w["p"], with_face):
        client.force_login(UserFactory(role="relative"))
        resp = _ask(client, p.id_number, p.name)
        assert resp.status_code == 302, resp.content.decode()[:300]
    assert HomeVisitRequest.objects.count() == 2


def test_a_relative_may_ask_for_only_a_few_distinct_people(w, client, settings):
    relative = UserFactory(role="relative")
    client.force_login(relative)
    people = [warning_person(w["a"]) for _ in range(settings.FACE_PROXY_MAX_PENSIONERS + 1)]
    for p in people[:-1]:
        HomeVisitRequest.objects.create(pensioner=p, requested_by=relative, reason="other",
                                        preferred_dates=["2026-12-03"], contact_phone="13700000001", state="scheduled")
    resp = _ask(client, people[-1].id_number, people[-1].name)
    assert resp.status_code == 200 and "已达到上限" in resp.content.decode()
    assert not HomeVisitRequest.objects.filter(pensioner=people[-1]).exists()


def test_appeal_look_ups_count_against_the_same_id_number(w, client, settings):
    from certification.cases import services as case_services

    p = w["p"]
    for i in range(settings.FACE_PROXY_TARGET_PER_HOUR):
        with pytest.raises(case_services.CaseError):
            case_services.appeal_target_find(helper=UserFactory(role="relative"), id_number=p.id_number, name=f"猜{i}")
    client.force_login(UserFactory(role="relative"))
    assert _ask(client, p.id_number, "孙玉兰").status_code == 429
