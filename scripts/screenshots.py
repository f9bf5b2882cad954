"""Walk every page a person uses, as each role, and save screenshots for a human to look at.

Usage (against a running demo started with SMS_TRANSPORT=file):
    SMS_TRANSPORT=file SMS_FILE_PATH=var/sms.jsonl .venv/bin/python manage.py runserver 127.0.0.1:8000 &
    .venv/bin/python scripts/screenshots.py --base http://127.0.0.1:8000 \
        --accounts var/demo_accounts.json --sms var/sms.jsonl --out var/screenshots/walkthrough
Pensioner and relative pages are taken 375 px wide; staff and admin pages at 1280 and 768.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


def latest_code(sms: Path, phone: str, after: int) -> str:
    for _ in range(50):
        lines = sms.read_text(encoding="utf-8").splitlines() if sms.exists() else []
        for line in reversed(lines[after:]):
            msg = json.loads(line)
            if msg["phone"] == phone and (m := re.search(r"验证码是 (\d{6})", msg["text"])):
                return m.group(1)
        time.sleep(0.1)
    raise SystemExit(f"no SMS code for {phone} in {sms}")


def shot(page: Page, out: Path, name: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    flag = "  OVERFLOW" if width > viewport else ""
    print(f"{name:40} {page.url}{flag}")


def sms_sign_in(page: Page, base: str, sms: Path, *, path: str, field: str, value: str, phone: str) -> None:
    before = len(sms.read_text(encoding="utf-8").splitlines()) if sms.exists() else 0
    page.goto(base + path)
    page.fill(f"#id_{field}", value)
    page.click("button[type=submit]")
    page.fill("#id_code", latest_code(sms, phone, before))
    page.click("button[type=submit]")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8000")
    ap.add_argument("--accounts", default="var/demo_accounts.json")
    ap.add_argument("--sms", default="var/sms.jsonl")
    ap.add_argument("--out", default="var/screenshots/walkthrough")
    ap.add_argument("--pensioner-phone", required=True, help="the sample pensioner's phone on file")
    a = ap.parse_args()
    base, sms, out = a.base.rstrip("/"), Path(a.sms), Path(a.out)
    accounts = {x["role"] + ("" if x["role"] != "staff" else x["username"]): x
                for x in json.loads(Path(a.accounts).read_text(encoding="utf-8").strip().splitlines()[-1])["accounts"]}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        phone = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
        page = phone.new_page()
        for path, name in [("/", "anon_landing"), ("/login/pensioner/", "anon_login_pensioner"),
                           ("/login/relative/", "anon_login_relative"), ("/login/", "anon_login_staff")]:
            page.goto(base + path)
            shot(page, out, f"375_{name}")
        p = accounts["pensioner"]
        sms_sign_in(page, base, sms, path="/login/pensioner/", field="id_number", value=p["username"],
                    phone=a.pensioner_phone)
        for path, name in [("/me/", "pensioner_home"), ("/face/", "pensioner_face_consent"),
                           ("/home-visit/request/", "pensioner_home_visit_request")]:
            page.goto(base + path)
            shot(page, out, f"375_{name}")
        phone.close()

        rel = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
        page = rel.new_page()
        sms_sign_in(page, base, sms, path="/login/relative/", field="phone", value="13800000001", phone="13800000001")
        for path, name in [("/relative/", "relative_home"), ("/face/proxy/", "relative_proxy_form"),
                           ("/home-visit/request/", "relative_home_visit_request")]:
            page.goto(base + path)
            shot(page, out, f"375_{name}")
        rel.close()

        for width in (1280, 768):
            for role, pages in [
                ("staffstaff_badaguan", ["/staff/", "/staff/queue/", "/bigdata/fraud-alerts/", "/bigdata/overpayments/",
                                         "/face/counter/"]),
                ("admin", ["/admin-home/", "/dashboards/", "/bigdata/batches/", "/django-admin/", "/api/docs/"]),
            ]:
                ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
                page = ctx.new_page()
                acc = accounts[role]
                page.goto(base + "/login/")
                page.fill("#id_username", acc["username"])
                page.fill("#id_password", acc["password"])
                page.click("button[type=submit]")
                for path in pages:
                    page.goto(base + path)
                    shot(page, out, f"{width}_{acc['username']}_{path.strip('/').replace('/', '_') or 'root'}")
                if role.startswith("staff"):
                    page.goto(base + "/staff/queue/")
                    link = page.locator("a[href^='/staff/pensioners/']").first
                    if link.count():
                        link.click()
                        shot(page, out, f"{width}_{acc['username']}_pensioner_detail")
                ctx.close()
        browser.close()


if __name__ == "__main__":
    main()
