"""Helpers for the headless-Chromium tests (the `browser` fixture is in conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

# Screenshots land here for a person to look at.
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", settings.BASE_DIR / "var" / "screenshots"))


def session_cookie(client, user, live_server) -> dict:  # type: ignore[no-untyped-def]
    """Sign `user` in through the test client and hand its session cookie to the browser."""
    client.force_login(user)
    return {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": live_server.url}


def open_page(browser, live_server, cookie, path: str, width: int, height: int = 900):  # type: ignore[no-untyped-def]
    """A new Chinese-locale context at `width`, signed in with `cookie` (or anonymous), on `path`."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", device_scale_factor=1)
    if cookie:
        ctx.add_cookies([cookie])
    page = ctx.new_page()
    page.goto(live_server.url + path)
    return ctx, page


def assert_fits(page, width: int) -> None:  # type: ignore[no-untyped-def]
    """Elderly-friendly: body text at least 18 px, and nothing wider than the screen."""
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 18
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"page is {scroll}px wide at a {width}px viewport"


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
