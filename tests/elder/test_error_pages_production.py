"""Chinese 400/403/404/500 and CSRF-failure pages in the portal's layout, under the production settings.

A real gunicorn with config.settings.production (whitenoise manifest static files, DEBUG
off) on a throwaway SQLite file, read in headless Chromium. The 500 is a real one: the
database file has no tables, so the first page that reads it fails.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.browser import SHOTS

pytestmark = [pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def prod_server(tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("prod-errors")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": f"sqlite:///{tmp / 'empty.sqlite3'}",  # no tables: a real 500 on the first read
        "REDIS_URL": "redis://127.0.0.1:6379/7",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on the loopback, as behind the TLS proxy
        "SECURE_HSTS_SECONDS": "0",
        "SMS_TRANSPORT": "file",  # production refuses the console transport (issue 13)
        "SMS_FILE_PATH": str(tmp / "sms.jsonl"),
        "STATIC_ROOT": str(tmp / "static"),
        "LOG_JSON": "0",
    })
    collect = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=300)
    assert collect.returncode == 0, collect.stderr[-3000:]
    port = _free_port()
    log = open(tmp / "gunicorn.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "config.wsgi:application", "-b", f"127.0.0.1:{port}",
                             "-w", "1", "--timeout", "60",
                             "--control-socket", str(tmp / "gunicorn.ctl")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError((tmp / "gunicorn.log").read_text()[-3000:])
            try:
                requests.get(base + "/", timeout=20)
                break
            except requests.RequestException:
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _check_layout(page, heading: str) -> None:  # type: ignore[no-untyped-def]
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("header.site .title").inner_text().strip() == "青岛市养老金资格认证"
    assert page.get_by_test_id("error-page").locator("h1").inner_text().strip() == heading
    # The portal's stylesheet loaded (hashed by whitenoise): body text is the portal's 20 px, not the browser's 16.
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 18
    home = page.get_by_role("link", name="回到首页")
    assert home.bounding_box()["height"] >= 60
    assert page.locator('a[href="tel:12333"]').count() >= 1
    text = page.inner_text("body")
    for english in ("Not Found", "Server Error", "Forbidden", "Bad Request", "CSRF"):
        assert english not in text


def test_404_is_chinese_in_the_portal_layout(browser, prod_server):
    ctx = browser.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN")
    page = ctx.new_page()
    try:
        response = page.goto(prod_server + "/no-such-page/")
        assert response.status == 404
        _check_layout(page, "没有找到这个页面")
        page.screenshot(path=str(SHOTS / "error_404_375.png"), full_page=True)
    finally:
        ctx.close()


def test_csrf_failure_is_chinese_and_says_what_to_do(browser, prod_server):
    ctx = browser.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN")
    page = ctx.new_page()
    try:
        page.goto(prod_server + "/login/pensioner/")
        ctx.clear_cookies()  # the CSRF cookie is gone, as after a long pause or a cleared browser
        page.fill("#id_id_number", "370202195001020012")
        with page.expect_response(lambda r: r.request.method == "POST") as info:
            page.click("button[type=submit]")
        assert info.value.status == 403
        _check_layout(page, "页面停留太久，已经过期了")
        page.screenshot(path=str(SHOTS / "error_csrf_375.png"), full_page=True)
    finally:
        ctx.close()


def test_500_is_chinese_in_the_portal_layout(browser, prod_server):
    ctx = browser.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN")
    page = ctx.new_page()
    try:
        page.goto(prod_server + "/login/pensioner/")
        page.fill("#id_id_number", "370202195001020012")  # a valid ID: the view reads the (missing) roster
        with page.expect_response(lambda r: r.request.method == "POST") as info:
            page.click("button[type=submit]")
        assert info.value.status == 500
        _check_layout(page, "系统暂时出了问题")
        page.screenshot(path=str(SHOTS / "error_500_375.png"), full_page=True)
    finally:
        ctx.close()


def test_400_and_403_pages_are_chinese():
    """Rendered by Django's own handlers (400 and 500 without a request), so they must not need one."""
    from django.template import loader
    from django.test import RequestFactory
    from django.utils import translation

    with translation.override("zh-hans"):
        bad = loader.get_template("400.html").render()
        denied = loader.get_template("403.html").render(request=RequestFactory().get("/staff/"))
    assert "这个请求看不懂" in bad and 'href="tel:12333"' in bad
    assert "您不能打开这个页面" in denied and "回到首页" in denied


def test_a_forbidden_page_under_production_is_the_chinese_403(prod_server):
    # A signed-out POST to the text-size switch without a CSRF token is refused with the CSRF page;
    # the plain 403 (another role's page) is covered above through the template.
    r = requests.post(prod_server + "/text-size/", data={"size": "large"}, timeout=10,
                      headers={"Referer": prod_server + "/"})
    assert r.status_code == 403 and "页面停留太久" in r.text and "<header" in r.text
