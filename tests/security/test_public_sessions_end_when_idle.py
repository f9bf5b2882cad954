"""ASVS 3.3.2: pensioner and relative sessions (SMS sign-in, often on a borrowed phone) end
after PUBLIC_SESSION_IDLE_SECONDS idle. The person lands on their own sign-in page and is told
why; the API answers 401 with the same plain message."""

from __future__ import annotations

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from certification.accounts.middleware import IDLE_MESSAGE
from certification.models import Role, User
from tests.factories import PensionerFactory

pytestmark = pytest.mark.django_db


def _pensioner_user() -> User:
    p = PensionerFactory()
    return User.objects.create(username=f"p{p.id_number}", role=Role.PENSIONER, pensioner=p, phone=p.phone)


def test_a_pensioner_session_survives_activity_and_ends_after_the_idle_limit():
    limit = settings.PUBLIC_SESSION_IDLE_SECONDS
    c = Client()
    c.force_login(_pensioner_user())
    with time_machine.travel("2026-12-01 09:00:00+08:00", tick=False) as t:
        assert c.get(reverse("certification:pensioner_home")).status_code == 200
        # Activity inside the limit keeps the session: twice just under the limit is fine.
        for _ in range(2):
            t.shift(limit - 60)
            assert c.get(reverse("certification:pensioner_home")).status_code == 200
        t.shift(limit + 1)
        resp = c.get(reverse("certification:pensioner_home"))
        assert resp.status_code == 302
        assert resp["Location"] == reverse("certification:pensioner_login")
        login_page = c.get(resp["Location"]).content.decode()
        assert IDLE_MESSAGE in login_page
        # Signed out for real: the page asks for a sign-in again.
        again = c.get(reverse("certification:pensioner_home"))
        assert again.status_code == 302 and again["Location"].startswith(reverse("certification:pensioner_login"))


def test_a_relative_goes_back_to_the_relative_sign_in_page():
    c = Client()
    c.force_login(User.objects.create(username="r13800000009", role=Role.RELATIVE, phone="13800000009"))
    with time_machine.travel("2026-12-01 09:00:00+08:00", tick=False) as t:
        assert c.get(reverse("certification:relative_home")).status_code == 200
        t.shift(settings.PUBLIC_SESSION_IDLE_SECONDS + 1)
        resp = c.get(reverse("certification:relative_home"))
        assert resp.status_code == 302 and resp["Location"] == reverse("certification:relative_login")


def test_the_api_answers_401_with_the_message_after_the_idle_limit():
    api = APIClient()
    api.force_login(_pensioner_user())
    with time_machine.travel("2026-12-01 09:00:00+08:00", tick=False) as t:
        assert api.get("/api/v1/me/").status_code == 200
        t.shift(settings.PUBLIC_SESSION_IDLE_SECONDS + 1)
        resp = api.get("/api/v1/me/")
        assert resp.status_code == 401
        assert resp.json()["message"] == IDLE_MESSAGE


def test_the_public_limit_is_longer_than_the_staff_one():
    # Old people read slowly; staff are at a shared office desk.
    assert settings.PUBLIC_SESSION_IDLE_SECONDS > settings.STAFF_SESSION_IDLE_SECONDS
