"""Simplified Chinese for everyone until they choose English (DESIGN §4: "Simplified Chinese
by default, with English available").

Django's LocaleMiddleware also honours the browser's Accept-Language, so a phone or a
headless browser set to English would open the portal in English on its first visit. Here
the choice is only ever the person's own: the header's 中文 / English button, which sets
the language cookie.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware


class ChosenLanguageMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)
