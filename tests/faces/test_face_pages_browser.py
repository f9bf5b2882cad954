"""The face pages a person lands on when something goes wrong, in headless Chromium at 375 px:
the camera refused (how to allow it in WeChat, Huawei's and Xiaomi's browsers and Safari, the other
channels, a call and a way home) and the verdict page for each kind of failure (tel: links, the
home-visit booking link, tries left or the channels when the tries are used up).

Screenshots go to var/screenshots/faces-*.png (SCREENSHOT_DIR) for a person to look at."""

from __future__ import annotations

import pytest
from django.utils import timezone

from certification.faces.models import Consent, FaceAttempt, FaceSession
from tests.browser import assert_fits, open_page, screenshot, session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_refused_camera_explains_how_to_allow_it_and_offers_the_other_channels(
        browser, live_server, client, pensioner, pensioner_user, enrol):
    enrol(pensioner)
    pensioner.street_office.counter_phone = "0532-88880000"
    pensioner.street_office.save(update_fields=["counter_phone"])
    consent = Consent.objects.create(user=pensioner_user, pensioner=pensioner, mode="self", text_version="t")
    # No fake camera and no permission: getUserMedia is refused, as when a person taps "不允许".
    ctx, page = open_page(browser, live_server, session_cookie(client, pensioner_user, live_server),
                          f"/face/capture/{consent.pk}/", 375)
    page.wait_for_selector('#face-capture[data-stage="nocamera"]', timeout=15_000)
    text = page.locator("#camera-help").inner_text()
    for browser_name in ("微信", "华为", "小米", "Safari"):
        assert browser_name in text
    assert page.locator('[data-testid="camera-call"]').get_attribute("href") == "tel:0532-88880000"
    assert page.locator("#camera-home").get_attribute("href") == "/"
    assert page.locator('[data-testid="channel-home-visit"]').get_attribute("href") == "/home-visit/request/"
    assert_fits(page, 375)
    box = page.locator("#camera-retry").bounding_box()
    assert box["height"] >= 44
    screenshot(page, "faces-camera-refused")
    ctx.close()


REASONS = ["no_liveness", "no_face", "multiple_faces", "no_match", "replay", "spliced", "expired", "abandoned"]


def _failed(pensioner, user, reason: str, n: int) -> FaceAttempt:  # type: ignore[no-untyped-def]
    consent = Consent.objects.create(user=user, pensioner=pensioner, mode="self", text_version="t")
    session = FaceSession.objects.create(nonce=f"n{n}", user=user, pensioner=pensioner, consent=consent, mode="self",
                                         challenge=["turn_left", "open_mouth"], expires_at=timezone.now())
    return FaceAttempt.objects.create(session=session, pensioner=pensioner, user=user, mode="self", state="done",
                                      passed=False, reason=reason, occurred_on=timezone.localdate())


def test_each_kind_of_failure_page_is_actionable_at_375_px(browser, live_server, client, pensioner, pensioner_user, enrol):
    enrol(pensioner)
    cookie = session_cookie(client, pensioner_user, live_server)
    for n, reason in enumerate(REASONS):
        attempt = _failed(pensioner, pensioner_user, reason, n)
        ctx, page = open_page(browser, live_server, cookie, f"/face/result/{attempt.pk}/", 375)
        assert page.locator("#face-verdict").get_attribute("data-reason") == reason
        exhausted = n + 1 >= 5
        assert page.locator("#face-retry").count() == (0 if exhausted else 1), reason
        if not exhausted:
            assert page.locator("#face-tries-left").get_attribute("data-left") == str(4 - n)
        assert page.locator('[data-testid="channel-call"]').get_attribute("href").startswith("tel:")
        assert page.locator('[data-testid="channel-home-visit"]').get_attribute("href") == "/home-visit/request/"
        assert "工作人员也会联系您" not in page.content()  # an active pensioner is not in the staff queue
        assert_fits(page, 375)
        screenshot(page, f"faces-failed-{n + 1}-{reason}")
        ctx.close()
