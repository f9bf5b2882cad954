"""Pensioner and relative pages in a real headless Chromium at 375 px (issue 12).

- Signed-out links go to the person's own SMS sign-in, not the staff login, and come back.
- The home page offers the face check only when it can run; otherwise tap-to-call and a
  home-visit booking.
- Tap targets: primary actions at least 60 px tall, every other target at least 44 x 44
  (MIIT 2021 age-friendly rules), on every pensioner and relative page.
- axe-core finds no serious or critical violation on any of them.
- The 大字 switch is remembered.

Screenshots go to var/screenshots/elder_*.png for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from certification import idnumber
from certification.faces import services as faces
from certification.faces.models import ReferenceFace
from certification.models import Role
from tests.browser import SHOTS, assert_fits, session_cookie
from tests.factories import PensionerFactory, UserFactory, office

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHOTO = Path(__file__).resolve().parents[1] / "fixtures" / "faces" / "lin_manuel_miranda_1.jpg"
AXE = Path(__import__("axe_playwright_python").__file__).with_name("axe.min.js")

# Every visible target: links, buttons, fields. A radio or checkbox counts by its label
# (the label is what a finger taps). Returns the ones that are too small.
TARGETS = """() => {
  const out = [];
  const seen = new Set();
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    let box = el;
    if ((el.type === 'radio' || el.type === 'checkbox') && el.closest('label')) box = el.closest('label');
    if (seen.has(box)) continue;
    seen.add(box);
    const r = box.getBoundingClientRect();
    const style = getComputedStyle(box);
    if (r.width === 0 || r.height === 0 || style.visibility === 'hidden' || style.display === 'none') continue;
    const primary = box.matches('.btn-primary, main .btn-block, main button[type=submit]');
    const need = primary ? 60 : 44;
    if (r.height < need - 0.5 || (!primary && r.width < 44 - 0.5)) {
      out.push({text: (box.innerText || box.value || box.getAttribute('aria-label') || box.name || '').trim().slice(0, 40),
                tag: box.tagName, w: Math.round(r.width), h: Math.round(r.height), need});
    }
  }
  return out;
}"""


def _axe_serious(page) -> list[str]:  # type: ignore[no-untyped-def]
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


def _check_page(page, name: str) -> None:  # type: ignore[no-untyped-def]
    assert_fits(page, 375)
    small = page.evaluate(TARGETS)
    assert small == [], f"{name}: targets below size: {small}"
    assert _axe_serious(page) == [], name
    page.screenshot(path=str(SHOTS / f"elder_{name}_375.png"), full_page=True)


def _pensioner(n: int, *, status: str, days: int, face: bool = False, **kw):  # type: ignore[no-untyped-def]
    today = dt.date.today()
    p = PensionerFactory(id_number=idnumber.make("370202", dt.date(1946, 4, 5), n), status=status,
                         valid_until=today + dt.timedelta(days=days),
                         suspended_since=today - dt.timedelta(days=10) if status == "suspended" else None,
                         street_office=office("八大关街道"), **kw)
    if face:
        faces.reference_enroll(pensioner=p, image=PHOTO.read_bytes(), source=ReferenceFace.Source.COMMAND)
    return p


def _user_for(p):  # type: ignore[no-untyped-def]
    user = UserFactory(username=f"p{p.id_number}", role=Role.PENSIONER)
    user.pensioner = p
    user.save()
    return user


def _ctx(browser, live_server, cookie=None):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN", device_scale_factor=1)
    if cookie:
        ctx.add_cookies([cookie])
    return ctx, ctx.new_page()


def _code(sent_sms, phone: str) -> str:
    for msg in reversed(sent_sms()):
        if msg["phone"] == phone and (m := re.search(r"验证码是 (\d{6})", msg["text"])):
            return m.group(1)
    raise AssertionError(f"no sign-in code sent to {phone}")


def test_signed_out_pensioner_links_go_to_the_sms_sign_in_and_come_back(browser, live_server, sent_sms):
    p = _pensioner(1, status="warning", days=-20, phone="13900000011")
    ctx, page = _ctx(browser, live_server)
    try:
        for path in ("/me/", "/face/", "/home-visit/request/"):
            page.goto(live_server.url + path)
            assert page.url.startswith(live_server.url + "/login/pensioner/"), (path, page.url)
            assert page.locator("h1").inner_text().strip() == "退休人员登录"
            assert "工作人员登录" not in page.locator("main").inner_text()
        for path in ("/relative/", "/face/proxy/"):
            page.goto(live_server.url + path)
            assert page.url.startswith(live_server.url + "/login/relative/"), (path, page.url)
            assert page.locator("h1").inner_text().strip() == "亲属登录"

        # Signing in from /face/ comes back to /face/ (next is kept across the code step).
        page.goto(live_server.url + "/face/")
        page.fill("#id_id_number", p.id_number)
        page.click("button[type=submit]")
        page.fill("#id_code", _code(sent_sms, p.phone))
        page.click("button[type=submit]")
        assert page.url == live_server.url + "/face/"
    finally:
        ctx.close()


def test_sign_in_errors_are_plain_words_next_to_the_field(browser, live_server):
    ctx, page = _ctx(browser, live_server)
    try:
        page.goto(live_server.url + "/login/pensioner/")
        page.click("button[type=submit]")  # empty: the server answers, not a browser bubble
        error = page.locator(".field-error").first
        assert error.inner_text().strip() == "请输入您的身份证号"
        assert float(error.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 20
        page.fill("#id_id_number", "37020219460405")
        page.click("button[type=submit]")
        assert page.locator(".field-error").first.inner_text().strip() == "身份证号是 18 位，您输入了 14 位，请再核对一下"
        assert page.locator("#id_id_number").get_attribute("aria-invalid") == "true"
        good = idnumber.make("370202", dt.date(1946, 4, 5), 9)
        page.fill("#id_id_number", good[:17] + ("1" if good[17] != "1" else "2"))
        page.click("button[type=submit]")
        assert page.locator(".field-error").first.inner_text().strip() == "身份证号好像输错了一位，请再核对一下"
        _check_page(page, "login_pensioner_error")
    finally:
        ctx.close()


def test_without_a_reference_photo_the_home_page_offers_the_channels_that_work(browser, live_server, client):
    no_face = _pensioner(2, status="warning", days=-20)
    with_face = _pensioner(3, status="warning", days=-20, face=True)
    ctx, page = _ctx(browser, live_server, session_cookie(client, _user_for(no_face), live_server))
    try:
        page.goto(live_server.url + "/me/")
        assert page.get_by_test_id("face-button").count() == 0
        assert "刷脸认证”" not in page.locator("main").inner_text()  # no push towards a check that cannot run
        call = page.get_by_test_id("call-office")
        assert call.get_attribute("href") == f"tel:{no_face.street_office.counter_phone}"
        assert call.bounding_box()["height"] >= 60
        assert page.get_by_role("link", name="预约工作人员上门认证").get_attribute("href") == "/home-visit/request/"
        _check_page(page, "home_warning_no_reference")
    finally:
        ctx.close()
    ctx, page = _ctx(browser, live_server, session_cookie(client, _user_for(with_face), live_server))
    try:
        page.goto(live_server.url + "/me/")
        button = page.get_by_test_id("face-button")
        assert button.get_attribute("href") == "/face/" and button.bounding_box()["height"] >= 60
        _check_page(page, "home_warning_face")
    finally:
        ctx.close()


def test_every_pensioner_page_has_big_targets_and_no_serious_axe_violation(browser, live_server, client):
    active = _pensioner(4, status="active", days=200)
    suspended = _pensioner(5, status="suspended", days=-150, face=True)
    users = {p.pk: _user_for(p) for p in (active, suspended)}
    pages = [(active, "/me/", "home_active"), (suspended, "/me/", "home_suspended"),
             (suspended, "/face/", "face_consent"), (active, "/face/", "face_no_reference"),
             (suspended, "/home-visit/request/", "home_visit_request"), (suspended, "/me/appeal/", "appeal"),
             (active, "/no-such-page/", "error_404")]
    for p, path, name in pages:
        # One session at a time: the test client's next force_login ends the previous one.
        ctx, page = _ctx(browser, live_server, session_cookie(client, users[p.pk], live_server))
        try:
            response = page.goto(live_server.url + path)
            assert response.status == (404 if name == "error_404" else 200), (path, response.status)
            assert page.url == live_server.url + path, (name, page.url)  # signed in, not sent to sign-in
            _check_page(page, name)
            # Every phone number on the page is a tap-to-call link.
            text = page.locator("main").inner_text()
            for number in set(re.findall(r"0532-\d{5,8}|(?<!\d)12333(?!\d)", text)):
                assert page.locator(f'a[href="tel:{number}"]').count() >= 1, (name, number)
        finally:
            ctx.close()


def test_every_signed_out_and_relative_page_has_big_targets(browser, live_server, client):
    ctx, page = _ctx(browser, live_server)
    try:
        for path, name in [("/", "landing"), ("/login/pensioner/", "login_pensioner"),
                           ("/login/relative/", "login_relative")]:
            page.goto(live_server.url + path)
            _check_page(page, name)
    finally:
        ctx.close()
    relative = UserFactory(username="r13800000009", role=Role.RELATIVE, phone="13800000009", first_name="张伟")
    ctx, page = _ctx(browser, live_server, session_cookie(client, relative, live_server))
    try:
        for path, name in [("/relative/", "relative_home"), ("/face/proxy/", "relative_proxy_form"),
                           ("/home-visit/request/", "relative_home_visit"), ("/relative/appeal/", "relative_appeal")]:
            response = page.goto(live_server.url + path)
            assert response.status == 200, (path, response.status)
            assert page.url == live_server.url + path, (name, page.url)
            _check_page(page, name)
    finally:
        ctx.close()


def test_the_text_size_switch_is_remembered(browser, live_server, client):
    p = _pensioner(6, status="active", days=100)
    ctx, page = _ctx(browser, live_server, session_cookie(client, _user_for(p), live_server))
    try:
        page.goto(live_server.url + "/me/")
        before = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        page.get_by_role("button", name="大字").click()
        page.wait_for_url("**/me/")
        after = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert after >= before * 1.15
        page.goto(live_server.url + "/home-visit/request/")  # another page, same size
        assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == after
        _check_page(page, "home_visit_request_large_text")
        page.get_by_role("button", name="标准字").click()
        assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == before
    finally:
        ctx.close()
