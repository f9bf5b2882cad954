"""API throttles that stay out of the way when the cache (Redis) is gone.

DRF's stock throttles read and write the shared cache on every API request. With
Redis unreachable that is an exception, so every API page would answer 500 (after
REDIS_SOCKET_TIMEOUT). These let the request through and log it instead: they are
a courtesy limit against runaway clients, not a security control. The limits that
are (sign-in lockouts, the daily face-attempt limit, SMS-code sends) are counted
in PostgreSQL or fail closed in their own services.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from redis.exceptions import RedisError
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports the throttle settings: no runtime import here
    from rest_framework.request import Request
    from rest_framework.views import APIView

log = logging.getLogger(__name__)


class _CacheOutageAllows:
    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except RedisError as exc:
            log.warning("API throttle skipped: cache unreachable (%s)", type(exc).__name__)
            return True


class AnonThrottle(_CacheOutageAllows, AnonRateThrottle):
    pass


class UserThrottle(_CacheOutageAllows, UserRateThrottle):
    pass
