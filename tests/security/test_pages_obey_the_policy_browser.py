"""Issue 13 item 9, in Chromium: under `script-src 'self'; style-src 'self'` the real pages
load without a single Content-Security-Policy violation (no inline script, style or handler
left behind), and the queue's phone-width labels still show (they moved from a <style>
block to CSS attr())."""

from __future__ import annotations

import datetime as dt

import pytest

from certification import rules
from tests.browser import SHOTS, session_cookie
from tests.factories import PensionerFactory, UserFactory, office

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _violations(browser, live_server, cookie, paths: list[str], width: int = 1280) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    found: dict[str, list[str]] = {}
    ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    if cookie:
        ctx.add_cookies([cookie])
    page = ctx.new_page()
    current: list[str] = []
    page.on("console", lambda m: current.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        for path in paths:
            current.clear()
            resp = page.goto(live_server.url + path)
            assert resp is not None and resp.status < 500, path
            assert "script-src 'self'" in resp.headers.get("content-security-policy", ""), path
            page.wait_for_load_state("networkidle")
            if path == "/api/docs/":  # Swagger UI still starts (its start-up script is a file now)
                page.wait_for_selector(".swagger-ui .opblock", timeout=15000)
            if current:
                found[path] = list(current)
    finally:
        ctx.close()
    return found


def test_public_staff_admin_and_pensioner_pages_have_no_policy_violations(browser, live_server, client):
    today = rules.today_local()
    a = office("八大关街道")
    staff = UserFactory(role="staff", offices=[a])
    admin = UserFactory(role="admin", is_staff=True, is_superuser=True)
    p = PensionerFactory(name="刘秀珍", street_office=a, status="warning", valid_until=today - dt.timedelta(days=30))
    me = UserFactory(role="pensioner", pensioner=p)

    assert _violations(browser, live_server, None, ["/", "/login/", "/login/pensioner/", "/login/relative/",
                                                    "/api/docs/", "/django-admin/login/"]) == {}
    assert _violations(browser, live_server, session_cookie(client, staff, live_server),
                       ["/staff/", "/staff/queue/", f"/staff/pensioners/{p.public_key}/"]) == {}
    assert _violations(browser, live_server, session_cookie(client, admin, live_server),
                       ["/dashboards/", "/django-admin/", "/django-admin/certification/pensioner/",
                        f"/django-admin/certification/pensioner/{p.pk}/change/"]) == {}
    assert _violations(browser, live_server, session_cookie(client, me, live_server), ["/me/", "/face/"]) == {}


def test_the_queue_labels_still_show_on_a_phone(browser, live_server, client):
    today = rules.today_local()
    a = office("八大关街道")
    staff = UserFactory(role="staff", offices=[a])
    PensionerFactory(name="陈建华", street_office=a, status="warning", valid_until=today - dt.timedelta(days=30))
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    ctx.add_cookies([session_cookie(client, staff, live_server)])
    page = ctx.new_page()
    try:
        page.goto(live_server.url + "/staff/queue/")
        label = page.evaluate("""() => getComputedStyle(
            document.querySelector('table.queue tbody tr td:nth-child(2)'), '::before').content""")
        assert "身份证号" in label
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "security_queue_phone_labels.png"), full_page=True)
    finally:
        ctx.close()
