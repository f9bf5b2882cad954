"""Chromium: an appeal from the pensioner's page at 375 px, and a revocation carried out by two staff.

Screenshots go to var/screenshots/ (or $SCREENSHOT_DIR) for a person to look at.
"""

from __future__ import annotations

import datetime as dt

import pytest

from certification import rules
from certification.cases.models import Appeal
from certification.models import Role, User
from tests.browser import SHOTS, assert_fits, open_page, session_cookie
from tests.factories import PensionerFactory, office

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _tap_size(page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).first.bounding_box()
    return box["width"], box["height"]


def test_a_suspended_pensioner_files_an_appeal_from_their_phone(browser, live_server, client):
    today = rules.today_local()
    p = PensionerFactory(name="孙秀英", street_office=office("八大关街道"), status="suspended",
                         valid_until=today - dt.timedelta(days=200), suspended_since=today - dt.timedelta(days=100))
    user = User.objects.create(username=f"p{p.id_number}", role=Role.PENSIONER, pensioner=p, phone=p.phone)
    ctx, page = open_page(browser, live_server, session_cookie(client, user, live_server), "/me/", 375)
    try:
        entry = page.get_by_test_id("appeal-entry")
        assert entry.inner_text().strip() == "我有异议 / 我还健在"
        w, h = _tap_size(page, '[data-testid="appeal-entry"]')
        assert h >= 60 and w >= 300
        assert_fits(page, 375)
        page.screenshot(path=str(SHOTS / "appeal_entry_375.png"), full_page=True)
        entry.click()
        page.wait_for_url("**/me/appeal/")
        assert_fits(page, 375)
        # Each choice is a big tap target, not a 22 px radio.
        _w, h = _tap_size(page, ".appeal-choices label")
        assert h >= 60
        page.get_by_label("我已经认证过，被错误暂停发放").check()
        page.get_by_label("简单说明（可以不写）").fill("我十月份在社区窗口认证过")
        page.screenshot(path=str(SHOTS / "appeal_form_375.png"), full_page=True)
        page.get_by_test_id("submit-appeal").click()
        page.wait_for_url("**/me/")
        state = page.get_by_test_id("appeal-open")
        due = Appeal.objects.get(pensioner=p).due_on
        assert f"{due.year}年{due.month}月{due.day}日" in state.inner_text()
        assert page.get_by_test_id("appeal-entry").count() == 0  # one open appeal at a time
        assert_fits(page, 375)
        page.screenshot(path=str(SHOTS / "appeal_filed_375.png"), full_page=True)
    finally:
        ctx.close()
    a = Appeal.objects.get(pensioner=p)
    assert (a.kind, a.via, a.text) == ("certified", "pensioner", "我十月份在社区窗口认证过")
