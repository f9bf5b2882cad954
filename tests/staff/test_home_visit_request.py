"""预约上门认证: a pensioner or relative asks online, staff confirm a date, the home page shows it."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from certification.staff.models import HomeVisitRequest
from notifications.models import Message
from tests.factories import UserFactory
from tests.staff.helpers import two_offices, warning_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(time_machine):
    time_machine.move_to("2026-11-30 10:00 +08:00", tick=False)
    a, b, staff_a, staff_a2, staff_b, admin = two_offices()
    p = warning_person(a, name="孙玉兰")
    account = UserFactory(role="pensioner", pensioner=p, username="p1")
    return dict(a=a, staff=staff_a, staff_b=staff_b, p=p, account=account)


FORM = {"reason": "aged_80", "date1": "2026-12-03", "date2": "2026-12-05", "contact_phone": "13700000001"}


def test_a_pensioner_request_lands_in_the_office_queue_and_staff_confirm_it_by_sms(client, w):
    client.force_login(w["account"])
    resp = client.post(reverse("staff:home_visit_request"), FORM)
    assert resp.status_code == 302
    req = HomeVisitRequest.objects.get()
    assert (req.pensioner, req.reason, req.preferred_dates) == (w["p"], "aged_80", ["2026-12-03", "2026-12-05"])
    # In the office queue, and not in another office's.
    client.force_login(w["staff_b"])
    assert list(client.get(reverse("staff:queue")).context["visit_requests"]) == []
    client.force_login(w["staff"])
    assert list(client.get(reverse("staff:queue")).context["visit_requests"]) == [req]
    client.post(reverse("staff:home_visit_schedule", args=[w["p"].public_key]),
                {"visit_on": "2026-12-03", "assignee": w["staff"].pk, "request_id": req.pk})
    req.refresh_from_db()
    assert req.state == "scheduled"
    sms = Message.objects.get(template="home_visit_confirmed")
    assert sms.recipient == "13700000001" and "2026年12月3日" in sms.text


def test_the_appointment_tag_shows_the_confirmed_date(w):
    from certification.staff import services

    services.home_visit_schedule(pensioner=w["p"], staff=w["staff"], visit_on=__import__("datetime").date(2026, 12, 3),
                                 assignee=w["staff"])
    html = Template("{% load staff_tags %}{% pensioner_appointments p %}").render(Context({"p": w["p"]}))
    assert "2026年12月3日" in html and "上门" in html


def test_a_second_request_while_one_is_open_is_refused(client, w):
    client.force_login(w["account"])
    client.post(reverse("staff:home_visit_request"), FORM)
    resp = client.post(reverse("staff:home_visit_request"), FORM)
    assert resp.status_code == 200
    assert "已经提交过预约" in resp.content.decode()
    assert HomeVisitRequest.objects.count() == 1


def test_a_relative_must_give_a_matching_id_number_and_name(client, w):
    relative = UserFactory(role="relative", phone="13600000000")
    client.force_login(relative)
    wrong = client.post(reverse("staff:home_visit_request"), {**FORM, "id_number": w["p"].id_number, "name": "别人"})
    assert "对不上" in wrong.content.decode() and not HomeVisitRequest.objects.exists()
    ok = client.post(reverse("staff:home_visit_request"), {**FORM, "id_number": w["p"].id_number, "name": "孙玉兰"})
    assert ok.status_code == 302
    assert HomeVisitRequest.objects.get().requested_by == relative


def test_dates_in_the_past_are_refused(client, w):
    client.force_login(w["account"])
    resp = client.post(reverse("staff:home_visit_request"), {**FORM, "date1": "2026-11-01", "date2": ""})
    assert "今天以后的日期" in resp.content.decode()
    assert not HomeVisitRequest.objects.exists()


def test_one_account_may_file_only_a_few_requests_a_day(w):
    import datetime as dt

    from certification.staff import services
    from tests.staff.helpers import warning_person

    relative = UserFactory(role="relative")
    people = [warning_person(w["a"]) for _ in range(4)]
    for p in people[:3]:
        services.home_visit_request_create(pensioner=p, requested_by=relative, reason="other",
                                           preferred_dates=[dt.date(2026, 12, 3)], contact_phone="13700000001")
    with pytest.raises(services.ActionError):
        services.home_visit_request_create(pensioner=people[3], requested_by=relative, reason="other",
                                           preferred_dates=[dt.date(2026, 12, 3)], contact_phone="13700000001")
    assert HomeVisitRequest.objects.filter(requested_by=relative).count() == 3


def test_a_relative_cannot_probe_one_id_number_beyond_the_proxy_limit(client, w, settings):
    from django.core.cache import cache

    cache.clear()
    relative = UserFactory(role="relative", phone="13600000009")
    client.force_login(relative)
    for i in range(settings.FACE_PROXY_TARGET_PER_HOUR):
        resp = client.post(reverse("staff:home_visit_request"), {**FORM, "id_number": w["p"].id_number, "name": f"猜{i}"})
        assert "对不上" in resp.content.decode()
    # The next try is refused even with the right name: the form is not an oracle.
    resp = client.post(reverse("staff:home_visit_request"), {**FORM, "id_number": w["p"].id_number, "name": "孙玉兰"})
    assert resp.status_code == 429 and "尝试次数太多" in resp.content.decode()
    assert not HomeVisitRequest.objects.exists()
