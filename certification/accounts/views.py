"""Second factor for staff and administrators: enrol a TOTP app, verify, recovery codes."""

from __future__ import annotations

from base64 import b32encode

import django_otp
import segno
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

from .forms import OtpTokenForm
from .middleware import needs_second_factor
from .services import recovery_codes_issue, totp_device_confirm, totp_device_start


def _next(request: HttpRequest) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return nxt
    return "/"


def _staff_only(request: HttpRequest) -> HttpResponse | None:
    if not needs_second_factor(request.user):
        return redirect("/")
    return None


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    if (refused := _staff_only(request)) is not None:
        return refused
    if not django_otp.user_has_device(request.user, confirmed=True):
        return redirect("accounts:otp_enrol")
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = django_otp.match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            django_otp.login(request, device)
            return redirect(_next(request))
        form.add_error("token", _("验证码不正确，请看身份验证器上最新的 6 位数字再输入"))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next(request)})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_enrol(request: HttpRequest) -> HttpResponse:
    if (refused := _staff_only(request)) is not None:
        return refused
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists() and not request.user.is_verified():
        # Re-enrolling replaces the second factor: only from a session that already passed it.
        return redirect("accounts:otp_verify")
    device = totp_device_start(user=request.user)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = totp_device_confirm(device=device, token=form.cleaned_data["token"])
        if codes is not None:
            device.refresh_from_db()
            django_otp.login(request, device)
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": _next(request)})
        form.add_error("token", _("验证码不正确，请看身份验证器上最新的 6 位数字再输入"))
    secret = b32encode(device.bin_key).decode()
    return render(request, "accounts/otp_enrol.html", {
        "form": form, "next": _next(request),
        # segno writes only path markup; the URL is in the modules, never in the text.
        "qr_svg": mark_safe(segno.make(device.config_url).svg_inline(scale=5, border=2)),  # noqa: S308
        "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
    })


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working). Only from a verified session."""
    if (refused := _staff_only(request)) is not None:
        return refused
    if not request.user.is_verified():
        return redirect("accounts:otp_verify")
    if request.method == "POST":
        return render(request, "accounts/recovery_codes.html",
                      {"codes": recovery_codes_issue(user=request.user), "next": "/"})
    return render(request, "accounts/recovery_codes.html", {"codes": None, "next": "/"})
