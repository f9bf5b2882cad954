"""The second-factor pages in a real Chromium: enrolment on a phone-sized screen, the QR
code drawn, the first code accepted, the recovery codes shown (issue 13 item 15)."""

from __future__ import annotations

import pytest

from tests.browser import assert_fits, open_page, screenshot, session_cookie
from tests.factories import UserFactory, office

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_staff_member_enrols_an_authenticator_app_on_a_phone(browser, live_server, client, settings):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.OTP_REQUIRED = True
    user = UserFactory(username="wang", offices=[office()])
    ctx, page = open_page(browser, live_server, session_cookie(client, user, live_server), "/staff/", 375)
    try:
        assert "/account/second-factor/enrol/" in page.url
        assert page.locator(".qr svg").bounding_box()["width"] >= 150
        assert_fits(page, 375)
        screenshot(page, "otp_enrol_375")
        device = TOTPDevice.objects.get(user=user, confirmed=False)
        page.fill("#id_token", f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}")
        page.click("form.card button[type=submit]")
        assert page.locator(".recovery-codes li").count() == 10
        assert_fits(page, 375)
        screenshot(page, "otp_recovery_codes_375")
        page.click("text=我已保存，继续")
        page.wait_for_load_state()
        assert page.url.endswith("/staff/")
    finally:
        ctx.close()
