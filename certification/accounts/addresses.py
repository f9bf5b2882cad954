"""The client's address is the proxy's word, not the client's (DESIGN §7).

`TRUSTED_PROXIES` is how many reverse proxies sit in front of the portal. Each
appends the address it saw to `X-Forwarded-For`, so the client is the entry that
many places from the right; anything to its left was written by the client and is
ignored. With no trusted proxy the header is ignored altogether. DRF's throttles
(`NUM_PROXIES`) and django-axes (`AXES_CLIENT_IP_CALLABLE`) use the same rule.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.TRUSTED_PROXIES
    xff = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not xff:
        return remote
    addrs = [a.strip() for a in xff.split(",")]
    candidate = addrs[-min(proxies, len(addrs))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # garbage from a misconfigured proxy: fall back to the socket peer
        return remote
