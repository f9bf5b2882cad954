"""Issue 13 item 4: django-axes keys lock-outs by username AND address, so five wrong
passwords from outside do not lock the staff member out of their own office's address."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory, office

pytestmark = pytest.mark.django_db
PASSWORD = "Correct-Horse-42"


def _login(client: Client, password: str, address: str):  # type: ignore[no-untyped-def]
    return client.post(reverse("certification:login"), {"username": "wang", "password": password},
                       REMOTE_ADDR=address)


def test_an_attacker_cannot_lock_a_staff_member_out_from_another_address():
    UserFactory(username="wang", offices=[office()])
    attacker = Client()
    for _ in range(5):
        _login(attacker, "guess-guess-guess", "203.0.113.66")
    assert _login(attacker, PASSWORD, "203.0.113.66").status_code == 429  # the attacker's pair is locked
    staff = Client()
    resp = _login(staff, PASSWORD, "10.20.30.40")  # the street office's own address
    assert resp.status_code == 302
    assert "_auth_user_id" in staff.session
