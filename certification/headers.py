"""Response headers for DESIGN §7 that django-csp does not set.

- `Permissions-Policy`: the camera only on the portal's own face pages (settings.CAMERA_PATHS),
  nothing else anywhere (microphone, location, payment, USB, …).
- `Cache-Control: no-store` on every page and file the portal generates: the queue, a
  pensioner's record, the .xlsx and CSV downloads all hold personal data, and a shared
  office PC or a proxy must not keep a copy. Static files are served by WhiteNoise above
  this middleware and keep their long cache lifetimes.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Features no page of the portal uses.
_NEVER = ("microphone", "geolocation", "payment", "usb", "serial", "bluetooth", "midi", "display-capture",
          "accelerometer", "gyroscope", "magnetometer")


def permissions_policy(path: str) -> str:
    camera = "(self)" if path.startswith(tuple(settings.CAMERA_PATHS)) else "()"
    return ", ".join([f"camera={camera}", *(f"{f}=()" for f in _NEVER)])


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", permissions_policy(request.path))
        # Replaces any "max-age" a view set: nothing dynamic is cached (healthz and the API included).
        response["Cache-Control"] = "no-store"
        return response
