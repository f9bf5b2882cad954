"""The pensioner's home page shows a confirmed home-visit appointment."""

import datetime as dt

import pytest
from django.urls import reverse

from certification.staff import services
from tests.factories import UserFactory
from tests.staff.helpers import two_offices, warning_person

pytestmark = pytest.mark.django_db


def test_home_page_shows_the_confirmed_visit_date(client, time_machine):
    time_machine.move_to("2026-11-30 10:00 +08:00", tick=False)
    a, b, staff_a, *_ = two_offices()
    p = warning_person(a)
    account = UserFactory(role="pensioner", pensioner=p)
    client.force_login(account)
    assert "我的上门认证预约" not in client.get(reverse("certification:pensioner_home")).content.decode()
    services.home_visit_schedule(pensioner=p, staff=staff_a, visit_on=dt.date(2026, 12, 4), assignee=staff_a)
    html = client.get(reverse("certification:pensioner_home")).content.decode()
    assert "我的上门认证预约" in html and "2026年12月4日" in html
