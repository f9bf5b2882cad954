"""Sessions (DESIGN §7): an idle limit for everyone, and the TOTP second factor for staff.

Staff and administrators: STAFF_SESSION_IDLE_SECONDS (30 minutes) idle, then the second factor.
Pensioners and relatives (SMS sign-in): PUBLIC_SESSION_IDLE_SECONDS idle; they are sent back
to their own sign-in page with a plain message. Runs after django_otp's OTPMiddleware (which
sets `request.user.is_verified()`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import user_has_device

from certification.models import Role

LAST_SEEN = "staff_last_seen"
# Write the session at most this often: the idle limit is then exact to within this.
TOUCH_EVERY_SECONDS = 30
IDLE_MESSAGE = "长时间未操作，为保护您的信息已退出登录，请重新登录"
# Pensioners and relatives go back to their own SMS sign-in page, not the staff one.
PUBLIC_LOGIN = {Role.PENSIONER: "certification:pensioner_login", Role.RELATIVE: "certification:relative_login"}
EXEMPT_PREFIXES = ("/static/", "/i18n/", "/healthz", "/logout/", "/account/second-factor/")


def needs_second_factor(user) -> bool:  # type: ignore[no-untyped-def]
    return bool(user.is_authenticated and (user.role in (Role.STAFF, Role.ADMIN) or user.is_superuser))


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if needs_second_factor(user):
            refused = self._idle(request, settings.STAFF_SESSION_IDLE_SECONDS) or self._second_factor(request)
            if refused is not None:
                return refused
        elif user.is_authenticated and user.role in PUBLIC_LOGIN:
            refused = self._idle(request, settings.PUBLIC_SESSION_IDLE_SECONDS, PUBLIC_LOGIN[user.role])
            if refused is not None:
                return refused
        return self.get_response(request)

    def _idle(self, request: HttpRequest, limit: int, login_name: str | None = None) -> HttpResponse | None:
        now = int(time.time())
        last = request.session.get(LAST_SEEN)
        if last is not None and now - last > limit:
            logout(request)
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "not_authenticated", "message": IDLE_MESSAGE}, status=401)
            if login_name is None:
                return redirect_to_login(request.get_full_path())
            messages.info(request, IDLE_MESSAGE)
            return redirect(reverse(login_name))
        if last is None or not 0 <= now - last < TOUCH_EVERY_SECONDS:
            request.session[LAST_SEEN] = now
        return None

    def _second_factor(self, request: HttpRequest) -> HttpResponse | None:
        if not settings.OTP_REQUIRED or request.user.is_verified() or request.path.startswith(EXEMPT_PREFIXES):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"code": "otp_required", "message": "请先在网页上完成两步验证"}, status=403)
        name = "accounts:otp_verify" if user_has_device(request.user, confirmed=True) else "accounts:otp_enrol"
        return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
