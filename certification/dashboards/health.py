"""GET /healthz: 200 when the database and Redis answer, 503 JSON naming what is down.

Used by docker-compose's health check and the load balancer; no authentication,
no session, nothing personal in the answer.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)


def _db_ok() -> bool:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            return cur.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "down"
        log.warning("healthz: database check failed", exc_info=True)
        # A broken persistent connection must not poison the next request.
        connection.close_if_unusable_or_obsolete()
        return False


def _redis_ok() -> bool | None:
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return None  # embedded mode: no Redis configured, nothing to check
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping())
    except redis.RedisError:
        log.warning("healthz: redis check failed", exc_info=True)
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _db_ok(), "redis": _redis_ok()}
    ok = all(v is not False for v in checks.values())
    body = {"status": "ok" if ok else "down", "checks": {k: ("ok" if v else "down" if v is False else "not_configured") for k, v in checks.items()}}
    return JsonResponse(body, status=200 if ok else 503)
