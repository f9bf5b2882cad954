"""The dashboard in a real headless Chromium at desktop (1280) and tablet (768) width.

Screenshots go to var/screenshots/ (or $SCREENSHOT_DIR) for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings as dj_settings

from certification.dashboards.services import snapshot_build
from certification.models import Role, StreetOffice
from tests.factories import UserFactory

from .population import TODAY, build_population

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", dj_settings.BASE_DIR / "var" / "screenshots"))


@pytest.mark.parametrize("width", [1280, 768])
def test_dashboard_pages_render_charts_and_tables_without_overflow(browser, live_server, client, width):
    build_population(n=60)
    snapshot_build(today=TODAY)
    admin = UserFactory(role=Role.ADMIN, username="city-admin", first_name="市局管理员")
    client.force_login(admin)
    cookie = {"name": dj_settings.SESSION_COOKIE_NAME, "value": client.cookies[dj_settings.SESSION_COOKIE_NAME].value,
              "url": live_server.url}
    SHOTS.mkdir(parents=True, exist_ok=True)
    office = StreetOffice.objects.get(name="八大关街道")
    ctx = browser.new_context(viewport={"width": width, "height": 1000}, locale="zh-CN")
    ctx.add_cookies([cookie])
    page = ctx.new_page()
    offline = []
    page.on("request", lambda r: offline.append(r.url) if not r.url.startswith(live_server.url) else None)
    try:
        for name, path in [("city", "/dashboards/"), ("district", f"/dashboards/district/{office.district_id}/"),
                           ("office", f"/dashboards/office/{office.pk}/")]:
            page.goto(live_server.url + path)
            assert page.locator("section.panel").count() >= 8
            assert page.locator("svg.chart").count() >= 4
            # Charts actually have drawn marks, not empty boxes.
            assert page.locator("svg.chart rect").count() > 4
            width_px = page.evaluate("document.documentElement.scrollWidth")
            assert width_px <= width, f"{name} page is {width_px}px wide at {width}px"
            page.screenshot(path=str(SHOTS / f"dashboard-{name}-{width}.png"), full_page=True)
        assert offline == [], f"requests left the portal: {offline}"
        # Drill down by clicking: city → 市南区 → 八大关街道.
        page.goto(live_server.url + "/dashboards/")
        page.get_by_role("link", name="市南区", exact=True).click()
        page.wait_for_url(f"**/dashboards/district/{office.district_id}/")
        page.get_by_role("link", name="八大关街道", exact=True).click()
        page.wait_for_url(f"**/dashboards/office/{office.pk}/")
        assert "八大关街道" in page.locator("h1").inner_text()
    finally:
        ctx.close()
