"""The API throttles let a request through when the cache (Redis) fails, instead of a 500."""

from __future__ import annotations

import pytest
from redis.exceptions import TimeoutError as RedisTimeout
from rest_framework.test import APIRequestFactory

from certification.throttling import AnonThrottle, UserThrottle


class _DeadCache:
    def get(self, *a, **k):  # type: ignore[no-untyped-def]
        raise RedisTimeout("Timeout reading from socket")

    set = get


@pytest.mark.parametrize("throttle", [AnonThrottle, UserThrottle])
def test_a_throttle_whose_cache_times_out_lets_the_request_through(throttle, monkeypatch):
    t = throttle()
    monkeypatch.setattr(t, "cache", _DeadCache())
    request = APIRequestFactory().get("/api/v1/")
    request.user = type("U", (), {"is_authenticated": throttle is UserThrottle, "pk": 7})()
    assert t.allow_request(request, view=None) is True


def test_a_throttle_with_a_working_cache_still_limits(settings, monkeypatch):
    from django.core.cache import cache

    cache.clear()
    monkeypatch.setattr(AnonThrottle, "get_rate", lambda self: "2/min")
    request = APIRequestFactory().get("/api/v1/", REMOTE_ADDR="10.9.8.7")
    request.user = type("U", (), {"is_authenticated": False})()
    assert [AnonThrottle().allow_request(request, view=None) for _ in range(3)] == [True, True, False]
