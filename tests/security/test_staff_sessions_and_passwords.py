"""Issue 13 item 15: staff and administrators use passwords of at least 12 characters and a
TOTP second factor (with recovery codes), and their sessions end after 30 minutes idle."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from certification.models import Role
from tests.factories import UserFactory, office

pytestmark = pytest.mark.django_db
PASSWORD = "Correct-Horse-42"


def test_a_password_shorter_than_twelve_characters_is_refused():
    with pytest.raises(ValidationError):
        validate_password("Tr1cky-Hors")  # 11 characters
    validate_password("Tr1cky-Horse")  # 12 characters


def _sign_in(client: Client, username: str = "wang") -> None:
    resp = client.post(reverse("certification:login"), {"username": username, "password": PASSWORD})
    assert resp.status_code == 302, resp.content.decode()[:500]


def test_a_staff_session_ends_after_thirty_minutes_idle():
    UserFactory(username="wang", offices=[office()])
    c = Client()
    with time_machine.travel("2026-12-01 09:00:00+08:00", tick=False) as t:
        _sign_in(c)
        assert c.get(reverse("certification:staff_home")).status_code == 200
        t.shift(29 * 60)
        assert c.get(reverse("certification:staff_home")).status_code == 200  # activity resets the clock
        t.shift(29 * 60)
        assert c.get(reverse("certification:staff_home")).status_code == 200
        t.shift(31 * 60)
        resp = c.get(reverse("certification:staff_home"))
        assert resp.status_code == 302 and "/login/" in resp["Location"]
        assert "_auth_user_id" not in c.session


def _now_code(device, t) -> str:  # type: ignore[no-untyped-def]
    from django_otp.oath import totp

    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_with_the_second_factor_required_staff_enrol_a_totp_app_and_get_recovery_codes(role, settings, time_machine):
    settings.OTP_REQUIRED = True
    time_machine.move_to("2026-12-01 09:00:00+08:00", tick=False)
    UserFactory(username="wang", role=role, offices=[office()])
    home = reverse("certification:staff_home" if role == Role.STAFF else "certification:admin_home")
    c = Client()
    _sign_in(c)
    # A password alone opens nothing: every page leads to enrolment.
    resp = c.get(home)
    assert resp.status_code == 302 and resp["Location"].startswith(reverse("accounts:otp_enrol"))
    assert c.get("/django-admin/").status_code == 302
    assert c.get("/api/v1/staff/queue/").status_code == 403
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page = c.get(resp["Location"])
    assert page.status_code == 200 and "<svg" in page.content.decode()
    assert page["Cache-Control"].count("no-store") == 1
    device = TOTPDevice.objects.get(user__username="wang", confirmed=False)
    wrong = c.post(reverse("accounts:otp_enrol"), {"token": "000000" if _now_code(device, 0) != "000000" else "111111"})
    assert wrong.status_code == 200 and not TOTPDevice.objects.get(pk=device.pk).confirmed
    time_machine.shift(31)  # django-otp throttles a device for a moment after a wrong code
    done = c.post(reverse("accounts:otp_enrol"), {"token": _now_code(device, 0), "next": home})
    codes = re.findall(r"<code>([a-z0-9]{8})</code>", done.content.decode())
    assert len(codes) == 10
    assert c.get(home).status_code == 200
    # The next sign-in asks for the second factor; a recovery code works once.
    c2 = Client()
    _sign_in(c2)
    resp = c2.get(home)
    assert resp["Location"].startswith(reverse("accounts:otp_verify"))
    assert c2.post(reverse("accounts:otp_verify"), {"token": codes[0], "next": home})["Location"] == home
    assert c2.get(home).status_code == 200
    time_machine.shift(2)
    c3 = Client()
    _sign_in(c3)
    again = c3.post(reverse("accounts:otp_verify"), {"token": codes[0], "next": home})
    assert again.status_code == 200 and c3.get(home).status_code == 302


def test_with_the_second_factor_required_a_token_needs_the_totp_code_too(settings):
    settings.OTP_REQUIRED = True
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = UserFactory(username="wang", offices=[office()])
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    api = APIClient()
    body = {"username": "wang", "password": PASSWORD}
    resp = api.post("/api/v1/auth/token/", body, format="json")
    assert resp.status_code == 403 and resp.json()["code"] == "otp_required"
    resp = api.post("/api/v1/auth/token/", {**body, "otp": _now_code(device, 0)}, format="json")
    assert resp.status_code == 200 and set(resp.json()) == {"token"}


def test_pensioners_are_not_asked_for_a_second_factor(settings):
    from tests.factories import PensionerFactory

    settings.OTP_REQUIRED = True
    p = PensionerFactory()
    user = UserFactory(username="p1", role=Role.PENSIONER)
    user.pensioner = p
    user.save()
    c = Client()
    c.force_login(user)
    assert c.get(reverse("certification:pensioner_home")).status_code == 200
