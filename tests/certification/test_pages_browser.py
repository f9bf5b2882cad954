"""The foundation pages in a real headless Chromium: readable, big, and phone-sized.

Screenshots go to var/screenshots/ (or $SCREENSHOT_DIR) so a person can look at them.
"""

import datetime as dt

import pytest

from certification.models import Role
from certification.services import certification_record
from tests.browser import SHOTS, assert_fits, open_page, session_cookie
from tests.factories import PensionerFactory, UserFactory, office

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pensioner_home_at_375px_shows_status_validity_next_step_and_history(browser, live_server, client):
    today = dt.date.today()
    p = PensionerFactory(name="王秀英", valid_until=today - dt.timedelta(days=20), status="warning")
    certification_record(pensioner=p, method="big_data", occurred_on=today - dt.timedelta(days=3), today=today,
                         source="hospital", evidence_ref="H-77")
    user = UserFactory(username="pwang", role=Role.PENSIONER)
    user.pensioner = p
    user.save()
    ctx, page = open_page(browser, live_server, session_cookie(client, user, live_server), "/me/", 375)
    try:
        assert page.get_by_test_id("status").inner_text().strip() == "认证有效"
        valid = page.get_by_test_id("valid-until")
        p.refresh_from_db()
        expected = p.valid_until
        assert valid.inner_text().strip() == f"{expected.year}年{expected.month}月{expected.day}日"
        assert float(valid.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 32
        assert "我现在该做什么" in page.content()
        assert "H-77" not in page.content()  # evidence refs are for staff; the person sees the source
        assert page.locator("table tbody tr").count() == 1
        assert_fits(page, 375)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "pensioner_home_375.png"), full_page=True)
    finally:
        ctx.close()


def test_staff_home_lists_only_own_office_in_chromium(browser, live_server, client):
    staff = UserFactory(username="wangfang", first_name="王芳", offices=[office("八大关街道")])
    for _ in range(3):
        PensionerFactory(street_office=office("八大关街道"), status="warning")
    PensionerFactory(street_office=office("湛山街道"), status="warning")
    cookie = session_cookie(client, staff, live_server)
    for width in (1280, 375):
        ctx, page = open_page(browser, live_server, cookie, "/staff/", width)
        try:
            text = page.content()
            assert "八大关街道" in text and "湛山街道" not in text
            assert page.get_by_test_id(f"warning-{office('八大关街道').pk}").inner_text() == "3"
            assert_fits(page, width)
            page.screenshot(path=str(SHOTS / f"staff_home_{width}.png"), full_page=True)
        finally:
            ctx.close()


def test_landing_and_sign_in_pages_fit_a_phone(browser, live_server):
    # A wrong check digit is refused by the server with a plain reason.
    ctx = browser.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN")
    page = ctx.new_page()
    try:
        page.goto(live_server.url + "/")
        button = page.get_by_text("我是退休人员，查看我的认证")
        assert button.bounding_box()["height"] >= 48
        assert_fits(page, 375)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "landing_375.png"), full_page=True)
        button.click()
        good = PensionerFactory.build().id_number
        page.fill("#id_id_number", good[:17] + ("1" if good[17] != "1" else "2"))
        page.click("button[type=submit]")
        assert page.locator(".field-error").first.inner_text().strip() == "身份证号好像输错了一位，请再核对一下"
        page.screenshot(path=str(SHOTS / "login_pensioner_error_375.png"), full_page=True)
    finally:
        ctx.close()
