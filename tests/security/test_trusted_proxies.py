"""Issue 13 item 3: X-Forwarded-For is read only through the trusted-proxy count.

The audit sent a fresh X-Forwarded-For with every request to /api/v1/auth/token/ and was
never throttled (NUM_PROXIES unset: DRF then keys the throttle on the whole header).
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/v1/auth/token/"


def _token_attempts(n: int, remote: str, xff=lambda i: f"10.9.{i // 250}.{i % 250}") -> list[int]:  # type: ignore[no-untyped-def]
    api = APIClient()
    return [api.post(TOKEN_URL, {"username": "nobody", "password": "wrong-wrong-wrong"}, format="json",
                     REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=xff(i)).status_code for i in range(n)]


def test_a_fresh_forwarded_for_header_each_time_does_not_escape_the_token_throttle():
    cache.delete("throttle_token_198.51.100.77")
    codes = _token_attempts(11, "198.51.100.77")
    assert codes[:10] == [400] * 10
    assert codes[10] == 429


def test_behind_one_trusted_proxy_the_client_is_the_address_the_proxy_appended(settings):
    settings.TRUSTED_PROXIES = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    cache.delete("throttle_token_203.0.113.50")
    # The client forges the left part; the proxy (REMOTE_ADDR 10.0.0.2) appends the real address.
    codes = _token_attempts(11, "10.0.0.2", xff=lambda i: f"1.2.3.{i}, 203.0.113.50")
    assert codes[10] == 429


def test_the_client_address_ignores_the_header_without_trusted_proxies(settings):
    from certification.accounts.addresses import client_address

    rf = RequestFactory()
    req = rf.get("/", REMOTE_ADDR="198.51.100.5", HTTP_X_FORWARDED_FOR="6.6.6.6")
    settings.TRUSTED_PROXIES = 0
    assert client_address(req) == "198.51.100.5"
    settings.TRUSTED_PROXIES = 1
    assert client_address(req) == "6.6.6.6"
    req = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert client_address(req) == "203.0.113.9"
    settings.TRUSTED_PROXIES = 2
    assert client_address(req) == "6.6.6.6"
    req = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address")
    settings.TRUSTED_PROXIES = 1
    assert client_address(req) == "10.0.0.2"


def test_drf_axes_and_the_sign_in_limits_read_the_same_setting(settings):
    from django.conf import settings as live

    assert live.REST_FRAMEWORK["NUM_PROXIES"] == live.TRUSTED_PROXIES
    assert live.AXES_CLIENT_IP_CALLABLE == "certification.accounts.addresses.client_address"
