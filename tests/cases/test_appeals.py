"""Appeals (DESIGN §5): filed by the pensioner, a relative or staff; answered by the street office.

Each path through the page and the API; due date = 3 working days; an SMS on filing
and on the answer; a relative's wrong ID/name reads like a nonexistent person.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from rest_framework.test import APIClient

from certification.cases import services
from certification.cases.models import Appeal
from certification.models import AuditLog, Certification
from notifications.models import Message

from .conftest import DUE, pensioner_user, relative_user


def _texts(p) -> list[str]:
    return list(Message.objects.filter(pensioner_id=p.pk).order_by("id").values_list("text", flat=True))


def test_a_suspended_pensioner_files_from_their_page_and_sees_the_state_and_due_date(client, w):
    p = w["suspended"]
    client.force_login(pensioner_user(p))
    home = client.get(reverse("certification:pensioner_home"))
    assert reverse("cases:pensioner_appeal") in home.content.decode()
    form = client.get(reverse("cases:pensioner_appeal"))
    assert "我已经认证过，被错误暂停发放" in form.content.decode()
    resp = client.post(reverse("cases:pensioner_appeal"),
                       {"kind": "certified", "text": "我上个月在窗口认证过", "contact_phone": p.phone})
    assert resp.status_code == 302
    a = Appeal.objects.get(pensioner=p)
    assert (a.via, a.state, a.opened_on, a.due_on, a.filed_by.pensioner_id) == (
        "pensioner", "open", dt.date(2026, 12, 3), DUE, p.pk)
    page = client.get(reverse("certification:pensioner_home")).content.decode()
    assert "2026年12月8日" in page and 'data-testid="appeal-open"' in page
    assert "异议申请" in _texts(p)[0] and "2026年12月8日" in _texts(p)[0]
    assert AuditLog.objects.filter(action="appeal_file", pensioner=p).exists()


def test_a_second_appeal_while_one_is_open_is_refused_with_the_due_date(w):
    p = w["suspended"]
    user = pensioner_user(p)
    services.appeal_file(pensioner=p, filed_by=user, via="pensioner", kind="certified")
    try:
        services.appeal_file(pensioner=p, filed_by=user, via="pensioner", kind="alive")
    except services.CaseError as exc:
        assert "2026年12月8日" in str(exc)
    else:
        raise AssertionError("a second open appeal was accepted")
    assert Appeal.objects.filter(pensioner=p).count() == 1


def test_other_needs_a_short_text_and_the_page_says_so(client, w):
    client.force_login(pensioner_user(w["suspended"]))
    resp = client.post(reverse("cases:pensioner_appeal"), {"kind": "other", "text": ""})
    assert resp.status_code == 400 and "请简单写一下是什么问题" in resp.content.decode()
    assert not Appeal.objects.exists()


def test_an_active_pensioner_sees_no_appeal_entry(client, w):
    from tests.factories import PensionerFactory

    p = PensionerFactory(street_office=w["a"], status="active", valid_until=dt.date(2027, 6, 1))
    client.force_login(pensioner_user(p))
    assert reverse("cases:pensioner_appeal") not in client.get(reverse("certification:pensioner_home")).content.decode()


def test_a_relative_files_by_id_number_and_name(client, w):
    p = w["suspended"]
    client.force_login(relative_user())
    resp = client.post(reverse("cases:relative_appeal"),
                       {"id_number": p.id_number, "name": p.name, "kind": "certified", "text": ""})
    assert resp.status_code == 302
    a = Appeal.objects.get(pensioner=p)
    assert (a.via, a.due_on) == ("relative", DUE)
    home = client.get(reverse("certification:relative_home")).content.decode()
    assert reverse("cases:relative_appeal") in home and 'data-testid="relative-appeal-open"' in home


def test_a_wrong_name_reads_exactly_like_a_nonexistent_person(client, w):
    from certification import idnumber

    p = w["suspended"]
    client.force_login(relative_user())
    wrong_name = client.post(reverse("cases:relative_appeal"),
                             {"id_number": p.id_number, "name": "李四", "kind": "alive"})
    nobody = client.post(reverse("cases:relative_appeal"),
                         {"id_number": idnumber.make("370202", dt.date(1940, 5, 5), 777), "name": p.name,
                          "kind": "alive"})
    assert wrong_name.status_code == nobody.status_code == 400
    msg = str(services.NOT_FOUND)
    assert msg in wrong_name.content.decode() and msg in nobody.content.decode()
    assert not Appeal.objects.exists()


def test_relative_look_ups_are_rate_limited_per_hour(client, w, settings):
    settings.FACE_PROXY_HELPER_PER_HOUR = 2
    client.force_login(relative_user())
    codes = [client.post(reverse("cases:relative_appeal"), {"id_number": "1", "name": "x", "kind": "alive"}).status_code
             for _ in range(3)]
    assert codes == [400, 400, 429]


def test_a_relative_can_act_for_a_few_distinct_people_a_year(w, settings):
    from tests.factories import PensionerFactory

    settings.FACE_PROXY_MAX_PENSIONERS = 1
    helper = relative_user()
    first, second = w["suspended"], PensionerFactory(street_office=w["a"], status="suspended",
                                                      valid_until=dt.date(2026, 7, 1))
    services.appeal_file(pensioner=services.appeal_target_find(helper=helper, id_number=first.id_number,
                                                                name=first.name),
                         filed_by=helper, via="relative", kind="alive")
    try:
        services.appeal_target_find(helper=helper, id_number=second.id_number, name=second.name)
    except services.CaseError as exc:
        assert "最多" in str(exc)
    else:
        raise AssertionError("the limit of distinct people was not applied")


def test_a_relative_files_for_someone_they_helped_from_the_list(client, w):
    p = w["suspended"]
    helper = relative_user()
    Certification.objects.create(pensioner=p, method="face_proxy", occurred_on=dt.date(2026, 5, 1), helper=helper)
    client.force_login(helper)
    page = client.get(reverse("cases:relative_appeal")).content.decode()
    assert f"?for={p.public_key}" in page
    resp = client.post(reverse("cases:relative_appeal") + f"?for={p.public_key}", {"kind": "alive", "text": ""})
    assert resp.status_code == 302 and Appeal.objects.get(pensioner=p).via == "relative"


def test_a_relative_cannot_pick_someone_they_never_helped_by_key(client, w):
    client.force_login(relative_user())
    resp = client.get(reverse("cases:relative_appeal") + f"?for={w['other'].public_key}")
    assert resp.status_code == 404


def test_staff_file_for_a_caller_through_the_page_and_answer_it_certified_at_the_counter(client, w):
    p = w["suspended"]
    client.force_login(w["staff"])
    resp = client.post(reverse("cases:staff_appeal_file", args=[p.public_key]),
                       {"kind": "certified", "text": "来电：说已在窗口认证", "contact_phone": ""})
    a = Appeal.objects.get(pensioner=p)
    assert resp.status_code == 302 and a.via == "staff" and a.filed_by == w["staff"]
    resp = client.post(reverse("cases:appeal", args=[a.pk]),
                       {"outcome": "certified", "channel": "counter", "occurred_on": "2026-12-03",
                        "note": "已到窗口核验身份证"})
    assert resp.status_code == 302
    a.refresh_from_db()
    p.refresh_from_db()
    assert (a.state, a.outcome, a.channel, a.answered_by) == ("answered", "certified", "counter", w["staff"])
    assert p.status == "active" and p.certifications.filter(method="counter").exists()
    assert "已认证" in _texts(p)[-1] and "已到窗口核验身份证" in _texts(p)[-1]
    assert AuditLog.objects.filter(action="appeal_answer", pensioner=p, actor=w["staff"]).exists()


def test_staff_file_and_answer_through_the_api(w):
    p = w["suspended"]
    api = APIClient()
    api.force_authenticate(w["staff2"])
    r = api.post(f"/api/v1/staff/pensioners/{p.public_key}/appeals/", {"kind": "alive", "text": "家属来电"},
                 format="json")
    assert r.status_code == 201 and r.json()["state"] == "open" and r.json()["due_on"] == DUE.isoformat()
    r2 = api.post(f"/api/v1/staff/appeals/{r.json()['id']}/answer/",
                  {"outcome": "rejected", "note": "经核实，本人确未认证，请尽快认证"}, format="json")
    assert r2.status_code == 200 and r2.json()["state"] == "answered" and r2.json()["outcome"] == "rejected"
    p.refresh_from_db()
    assert p.status == "suspended"  # a rejected appeal changes nothing
    assert "经核实不予支持" in _texts(p)[-1]


def test_the_pensioner_sees_the_answer_on_their_page(client, w):
    p = w["suspended"]
    user = pensioner_user(p)
    a = services.appeal_file(pensioner=p, filed_by=user, via="pensioner", kind="certified")
    services.appeal_answer(appeal=a, staff=w["staff"], outcome="corrected", note="已更正您的认证记录")
    client.force_login(user)
    page = client.get(reverse("certification:pensioner_home")).content.decode()
    assert 'data-testid="appeal-answered"' in page and "已更正记录" in page and "已更正您的认证记录" in page


def test_answering_needs_a_note_and_a_channel_for_certified(w):
    p = w["suspended"]
    a = services.appeal_file(pensioner=p, filed_by=w["staff"], via="staff", kind="certified")
    for kwargs in ({"outcome": "rejected", "note": " "}, {"outcome": "certified", "note": "好", "channel": ""}):
        try:
            services.appeal_answer(appeal=a, staff=w["staff"], **kwargs)
        except services.CaseError:
            pass
        else:
            raise AssertionError(kwargs)
    a.refresh_from_db()
    assert a.state == "open"


def test_another_offices_appeal_is_a_404_on_the_page_and_the_api(client, w):
    a = services.appeal_file(pensioner=w["other"], filed_by=w["staff_b"], via="staff", kind="alive")
    client.force_login(w["staff"])
    assert client.get(reverse("cases:appeal", args=[a.pk])).status_code == 404
    assert client.post(reverse("cases:staff_appeal_file", args=[w["other"].public_key]),
                       {"kind": "alive"}).status_code == 404
    api = APIClient()
    api.force_authenticate(w["staff"])
    assert api.post(f"/api/v1/staff/appeals/{a.pk}/answer/", {"outcome": "rejected", "note": "x"},
                    format="json").status_code == 404
    assert api.post(f"/api/v1/staff/pensioners/{w['other'].public_key}/appeals/", {"kind": "alive"},
                    format="json").status_code == 404
