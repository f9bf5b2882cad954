"""Staff sign in with a password (locked after repeated failures) and see only their own offices."""

import pytest
from django.urls import reverse

from certification.models import Role
from tests.factories import PensionerFactory, UserFactory, office

pytestmark = pytest.mark.django_db
PASSWORD = "Correct-Horse-42"


def test_staff_signs_in_and_sees_own_office_counts_only(client):
    staff = UserFactory(username="wang", offices=[office("八大关街道")])
    PensionerFactory(street_office=office("八大关街道"), status="warning")
    PensionerFactory(street_office=office("湛山街道"), status="warning")
    resp = client.post(reverse("certification:login"), {"username": "wang", "password": PASSWORD})
    assert resp.status_code == 302
    page = client.get(reverse("certification:staff_home")).content.decode()
    assert "八大关街道" in page and "湛山街道" not in page
    assert staff.street_offices.count() == 1


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(client):
    UserFactory(username="li", offices=[office("湛山街道")])
    for _ in range(5):
        client.post(reverse("certification:login"), {"username": "li", "password": "wrong"})
    resp = client.post(reverse("certification:login"), {"username": "li", "password": PASSWORD})
    assert resp.status_code == 429
    assert "锁定" in resp.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_sign_in_refuses_relatives():
    from django.test import Client

    UserFactory(username="rel", role=Role.RELATIVE)
    resp = Client().post(reverse("certification:login"), {"username": "rel", "password": PASSWORD})
    assert "仅供工作人员" in resp.content.decode()


@pytest.mark.parametrize("url_name", ["certification:staff_home", "certification:admin_home"])
def test_pensioners_cannot_open_staff_or_admin_pages(client, url_name):
    p = PensionerFactory()
    user = UserFactory(username="p1", role=Role.PENSIONER)
    user.pensioner = p
    user.save()
    client.force_login(user)
    assert client.get(reverse(url_name)).status_code == 403


def test_staff_cannot_open_the_admin_home(client):
    client.force_login(UserFactory(offices=[office()]))
    assert client.get(reverse("certification:admin_home")).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    resp = client.get(reverse("certification:pensioner_home"))
    assert resp.status_code == 302 and "/login/" in resp["Location"]


def test_pensioner_home_shows_the_itemised_back_pay_after_restoration(client):
    import datetime as dt

    from certification.services import certification_record, transitions_run

    p = PensionerFactory(valid_until=dt.date(2026, 3, 10), monthly_amount="2500.00")
    transitions_run(today=dt.date(2026, 6, 20))
    certification_record(pensioner=p, method="counter", occurred_on=dt.date(2026, 8, 20), today=dt.date(2026, 8, 20))
    user = UserFactory(username="pp", role=Role.PENSIONER)
    user.pensioner = p
    user.save()
    client.force_login(user)
    page = client.get(reverse("certification:pensioner_home")).content.decode()
    assert "5000.00 元" in page
    assert "2026年7月 2500.00 元" in page and "2026年8月 2500.00 元" in page
