"""Chromium: queue → call outcome → home visit → certified in person; pages fit phone and tablet.

Screenshots go to var/screenshots/ (or $SCREENSHOT_DIR) for a person to look at.
"""

import datetime as dt

import pytest

from certification import rules
from certification.models import AuditLog, Community
from certification.staff import services
from tests.browser import SHOTS, assert_fits
from tests.browser import open_page as _page
from tests.browser import session_cookie as _cookie
from tests.factories import PensionerFactory, UserFactory, office

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page, width):
    assert_fits(page, width)


def _world():
    today = rules.today_local()
    a = office("八大关街道")
    c = Community.objects.get_or_create(street_office=a, name="山东路社区")[0]
    staff = UserFactory(username="wangli", role="staff", offices=[a], last_name="王", first_name="丽")
    UserFactory(username="zhaoqiang", role="staff", offices=[a], last_name="赵", first_name="强")
    people = [
        PensionerFactory(name="刘秀珍", street_office=a, community=c, status="warning", special_group="aged_80",
                         valid_until=today - dt.timedelta(days=85), relative_phone="13800000001"),
        PensionerFactory(name="陈建华", street_office=a, community=c, status="warning",
                         valid_until=today - dt.timedelta(days=40), phone_invalid=True),
        PensionerFactory(name="周桂英", street_office=a, community=c, status="suspended",
                         valid_until=today - dt.timedelta(days=120), suspended_since=today - dt.timedelta(days=28)),
    ]
    PensionerFactory(name="外街道的人", street_office=office("中山路街道"), status="warning",
                     valid_until=today - dt.timedelta(days=30))
    return today, staff, people


def test_queue_call_outcome_home_visit_certified(browser, live_server, client):
    today, staff, people = _world()
    target = people[0]
    ctx, page = _page(browser, live_server, _cookie(client, staff, live_server), "/staff/queue/", 1280)
    try:
        rows = page.get_by_test_id("row")
        assert rows.count() == 3
        assert "外街道的人" not in page.content()
        assert rows.first.inner_text().startswith("周桂英")  # suspended first
        page.screenshot(path=str(SHOTS / "staff_queue_1280.png"), full_page=True)

        page.get_by_role("link", name="刘秀珍").click()
        page.wait_for_url("**/staff/pensioners/*/")
        assert page.get_by_test_id("id-number").inner_text() == target.id_number
        page.screenshot(path=str(SHOTS / "staff_detail_1280.png"), full_page=True)

        call = page.get_by_test_id("call-form")
        call.get_by_label("已联系上").check()
        call.get_by_label("备注").fill("本人在家，行动不便")
        call.get_by_role("button", name="保存联系结果").click()
        page.wait_for_load_state()
        assert "已记录联系结果" in page.content()

        visit = page.get_by_test_id("visit-form")
        visit.get_by_label("上门日期").fill(today.isoformat())
        visit.get_by_label("上门人员").select_option(label="赵强")
        visit.get_by_role("button", name="安排上门并短信通知").click()
        page.wait_for_load_state()
        assert "已安排上门" in page.content()

        outcome = page.get_by_test_id("visit-outcome-form")
        outcome.get_by_label("已当面认证").check()
        outcome.get_by_role("button", name="登记上门结果").click()
        page.wait_for_load_state()
        assert page.get_by_test_id("status").inner_text().strip() == "认证有效"
        page.screenshot(path=str(SHOTS / "staff_detail_certified_1280.png"), full_page=True)

        page.goto(live_server.url + "/staff/queue/")
        assert page.get_by_test_id("row").count() == 2
        assert "刘秀珍" not in page.get_by_role("table").inner_text()
    finally:
        ctx.close()
    target.refresh_from_db()
    assert target.status == "active" and target.certifications.get().method == "home_visit"
    assert target.contacts.get().outcome == "reached"
    assert AuditLog.objects.filter(pensioner=target, action="home_visit_record_outcome").exists()


@pytest.mark.parametrize("width", [375, 768, 1280])
def test_staff_pages_fit_phone_and_tablet(browser, live_server, client, width):
    today, staff, people = _world()
    services.contact_record(pensioner=people[1], staff=staff, outcome="wrong_number")
    cookie = _cookie(client, staff, live_server)
    for path, name in [("/staff/queue/", "queue"), (f"/staff/pensioners/{people[0].public_key}/", "detail")]:
        ctx, page = _page(browser, live_server, cookie, path, width)
        try:
            _fits(page, width)
            page.screenshot(path=str(SHOTS / f"staff_{name}_{width}.png"), full_page=True)
        finally:
            ctx.close()


def test_home_visit_request_form_at_375px(browser, live_server, client):
    today, staff, people = _world()
    account = UserFactory(username="liu", role="pensioner", pensioner=people[0])
    cookie = _cookie(client, account, live_server)
    ctx, page = _page(browser, live_server, cookie, "/home-visit/request/", 375)
    try:
        _fits(page, 375)
        page.screenshot(path=str(SHOTS / "home_visit_request_375.png"), full_page=True)
        page.get_by_label("80岁以上").check()
        page.get_by_label("希望上门日期（第一选择）").fill((today + dt.timedelta(days=3)).isoformat())
        page.get_by_label("联系电话").fill("13700000002")
        page.get_by_role("button", name="提交预约").click()
        page.wait_for_load_state()
        assert people[0].visit_requests.count() == 1
        services.home_visit_schedule(pensioner=people[0], staff=staff, visit_on=today + dt.timedelta(days=3),
                                     assignee=staff, request=people[0].visit_requests.get())
        page.goto(live_server.url + "/me/")
        assert page.get_by_test_id("appointments").is_visible()
        _fits(page, 375)
        page.screenshot(path=str(SHOTS / "pensioner_home_appointment_375.png"), full_page=True)
    finally:
        ctx.close()
