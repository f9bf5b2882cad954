"""The queue: sorted by days until suspension, filtered, paginated, each row's columns right."""

import datetime as dt

import pytest
from django.urls import reverse

from certification.models import Community
from certification.staff import services
from notifications.models import Message
from tests.staff.helpers import TODAY, suspended_person, two_offices, warning_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(time_machine):
    time_machine.move_to("2026-11-30 10:00 +08:00", tick=False)
    a, b, staff_a, staff_a2, staff_b, admin = two_offices()
    return dict(a=a, staff=staff_a)


def _names(resp):
    return [r.pensioner.name for r in resp.context["rows"]]


def test_sorted_by_days_until_suspension_suspended_first(client, w):
    warning_person(w["a"], days_into_warning=5, name="还有很久")
    warning_person(w["a"], days_into_warning=80, name="快暂停了")
    suspended_person(w["a"], name="已暂停")
    client.force_login(w["staff"])
    resp = client.get(reverse("staff:queue"))
    assert _names(resp) == ["已暂停", "快暂停了", "还有很久"]
    days = [r.days_left for r in resp.context["rows"]]
    assert days == sorted(days) and days[0] < 0 < days[1]


def test_each_filter_narrows_the_queue(client, w):
    c1 = Community.objects.create(street_office=w["a"], name="山东路社区")
    c2 = Community.objects.create(street_office=w["a"], name="海滨社区")
    warning_person(w["a"], community=c1, name="社区一")
    warning_person(w["a"], community=c2, name="社区二", special_group="aged_80")
    warning_person(w["a"], community=c2, name="号码无效", phone_invalid=True)
    warning_person(w["a"], community=c2, name="刷脸用完", face_attempts_exhausted_on=TODAY)
    warning_person(w["a"], community=c2, name="昨天用完", face_attempts_exhausted_on=TODAY - dt.timedelta(days=1))
    contacted = warning_person(w["a"], community=c2, name="已联系")
    suspended_person(w["a"], community=c1, name="暂停的")
    services.contact_record(pensioner=contacted, staff=w["staff"], outcome="no_answer")
    client.force_login(w["staff"])
    q = reverse("staff:queue")
    assert sorted(_names(client.get(q, {"community": c1.pk}))) == ["暂停的", "社区一"]
    assert _names(client.get(q, {"status": "suspended"})) == ["暂停的"]
    assert _names(client.get(q, {"special_group": "aged_80"})) == ["社区二"]
    assert _names(client.get(q, {"phone_invalid": "on"})) == ["号码无效"]
    assert _names(client.get(q, {"face_exhausted": "on"})) == ["刷脸用完"]
    assert _names(client.get(q, {"outcome": "no_answer"})) == ["已联系"]
    assert "已联系" not in _names(client.get(q, {"outcome": "none"}))
    assert len(_names(client.get(q, {"outcome": "none"}))) == 6


def test_rows_show_masked_ids_age_and_reminders_of_this_warning_period(client, w):
    p = warning_person(w["a"], days_into_warning=31, id_number="37020219400101104X", birth_date=dt.date(1940, 1, 1))
    for i, template in enumerate(["warning_entered", "warning_reminder", "suspension_soon"]):
        Message.objects.create(pensioner=p, recipient=p.phone, template=template, text="x", dedup_key=f"k{i}",
                               status="sent", next_attempt_at="2026-11-30T00:00Z")
    Message.objects.create(pensioner=p, recipient=p.phone, template="warning_reminder", text="x", dedup_key="q",
                           status="queued", next_attempt_at="2026-11-30T00:00Z")  # not sent yet: not counted
    client.force_login(w["staff"])
    resp = client.get(reverse("staff:queue"))
    row = resp.context["rows"][0]
    assert (row.age, row.reminders_sent, row.days_left) == (86, 3, 62)  # suspended from 2027-01-31
    assert "370202********104X" in resp.content.decode()


def test_the_queue_is_paginated_fifty_a_page(client, w):
    for i in range(55):
        warning_person(w["a"], days_into_warning=1 + i, name=f"第{i:02d}")
    client.force_login(w["staff"])
    first = client.get(reverse("staff:queue"))
    second = client.get(reverse("staff:queue"), {"page": 2})
    assert (len(first.context["rows"]), len(second.context["rows"])) == (50, 5)
    assert first.context["page"].paginator.count == 55
    assert set(_names(first)).isdisjoint(_names(second))
