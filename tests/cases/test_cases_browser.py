"""Chromium: an appeal from the pensioner's page at 375 px, and a revocation carried out by two staff.

Screenshots go to var/screenshots/ (or $SCREENSHOT_DIR) for a person to look at.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from certification import rules
from certification.cases.models import Appeal, Revocation
from certification.models import Overpayment, Role, User
from tests.browser import SHOTS, assert_fits, open_page, session_cookie
from tests.factories import PensionerFactory, UserFactory, office

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


def test_two_staff_members_revoke_a_wrong_death(browser, live_server, client):
    from certification.services import pensioner_mark_deceased

    today = rules.today_local()
    a = office("八大关街道")
    first = UserFactory(username="wangli", role="staff", offices=[a], last_name="王", first_name="丽")
    second = UserFactory(username="zhaoqiang", role="staff", offices=[a], last_name="赵", first_name="强")
    p = PensionerFactory(name="李桂兰", street_office=a, status="active", valid_until=rules.add_months(today, 6))
    pensioner_mark_deceased(pensioner=p, death_date=rules.add_months(today, -3), today=rules.add_months(today, -2),
                            source="death_civil")
    # Finance had already recovered the month paid after the death: it comes back on revocation.
    assert Overpayment.objects.filter(pensioner=p).update(state=Overpayment.State.RECOVERED) == 1
    p.refresh_from_db()
    ctx, page = open_page(browser, live_server, session_cookie(client, first, live_server),
                          f"/staff/pensioners/{p.public_key}/", 1280)
    try:
        page.locator("#id_revoke_reason").fill("身份证号录入错误，本人已到窗口核实")
        page.get_by_test_id("record-revocation").click()
        page.wait_for_url("**/staff/cases/revocations/*/")
        assert page.get_by_test_id("needs-second-person").is_visible()
        assert page.get_by_test_id("confirm-revocation").count() == 0
        page.screenshot(path=str(SHOTS / "revocation_recorded_1280.png"), full_page=True)
        url = page.url
    finally:
        ctx.close()
    rev = Revocation.objects.get(pensioner=p)
    assert rev.state == "pending" and rev.recorded_by == first
    client.logout()
    ctx, page = open_page(browser, live_server, session_cookie(client, second, live_server), "/staff/cases/", 375)
    try:
        assert_fits(page, 375)
        page.screenshot(path=str(SHOTS / "case_list_375.png"), full_page=True)
        page.goto(url)
        page.get_by_test_id("confirm-revocation").click()
        page.wait_for_url(url)
        result = page.get_by_test_id("revocation-result").inner_text()
        assert "已恢复发放" in result
        assert f"已追回的 {p.monthly_amount:.2f} 元将随下一次发放退还本人" in page.get_by_test_id("revocation-refund").inner_text()
        assert page.get_by_test_id("revocation-state").inner_text() == "已撤销死亡"
        assert_fits(page, 375)
        page.screenshot(path=str(SHOTS / "revocation_confirmed_375.png"), full_page=True)
    finally:
        ctx.close()
    p.refresh_from_db()
    rev.refresh_from_db()
    assert (p.status, p.death_date, rev.confirmed_by) == ("active", None, second)
    assert Decimal(rev.result["back_pay_total"]) == p.monthly_amount * rev.result["back_pay_months"] > 0


def test_a_wrongly_dead_pensioner_signs_in_and_appeals_from_their_phone(browser, live_server, sent_sms):
    """No dead end (issue 10): the real sign-in pages, a code to the phone on file, then "I am alive"."""
    import re

    from certification.cases import services
    from certification.services import pensioner_mark_deceased

    today = rules.today_local()
    a = office("八大关街道")
    staff = UserFactory(role="staff", offices=[a], last_name="王", first_name="丽")
    p = PensionerFactory(name="吴桂兰", street_office=a, phone="13912340002", status="active",
                         valid_until=rules.add_months(today, 6))
    pensioner_mark_deceased(pensioner=p, death_date=rules.add_months(today, -2), today=rules.add_months(today, -1),
                            source="death_civil")
    ctx, page = open_page(browser, live_server, None, "/login/pensioner/", 375)
    try:
        page.locator("#id_id_number").fill(p.id_number)
        page.get_by_role("button", name="获取短信验证码").click()
        page.wait_for_url("**/login/pensioner/code/")
        [sms] = [s for s in sent_sms() if s["phone"] == p.phone]
        page.locator("#id_code").fill(re.search(r"\b(\d{6})\b", sms["text"]).group(1))
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/me/")
        assert page.get_by_test_id("status").inner_text().strip() == "已登记死亡"
        assert page.get_by_test_id("face-button").count() == 0
        assert page.get_by_test_id("call-office").is_visible()
        entry = page.get_by_test_id("appeal-entry")
        _w, h = _tap_size(page, '[data-testid="appeal-entry"]')
        assert h >= 60
        assert_fits(page, 375)
        page.screenshot(path=str(SHOTS / "deceased_home_375.png"), full_page=True)
        entry.click()
        page.wait_for_url("**/me/appeal/")
        assert page.get_by_label("我还健在，被错误登记为死亡").is_checked()  # preselected for the deceased
        page.get_by_label("简单说明（可以不写）").fill("我还健在，是身份证号录错了")
        assert_fits(page, 375)
        page.screenshot(path=str(SHOTS / "deceased_appeal_form_375.png"), full_page=True)
        page.get_by_test_id("submit-appeal").click()
        page.wait_for_url("**/me/")
        assert page.get_by_test_id("appeal-open").is_visible()
        appeal = Appeal.objects.get(pensioner=p)
        assert (appeal.kind, appeal.via) == ("alive", "pensioner")
        services.appeal_answer(appeal=appeal, staff=staff, outcome="corrected",
                               note="经核实系录入错误，已登记撤销死亡，待另一名工作人员确认。")
        page.reload()
        assert "经核实系录入错误" in page.get_by_test_id("appeal-answered").inner_text()
        assert_fits(page, 375)
        page.screenshot(path=str(SHOTS / "deceased_appeal_answered_375.png"), full_page=True)
    finally:
        ctx.close()
