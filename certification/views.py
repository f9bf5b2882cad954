"""Pages: sign-in, and the home page of each role. Views read; services write."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from bigdata.selectors import source_labels

from . import idnumber, rules
from .access import admin_required, pensioner_required, relative_required, staff_required
from .accounts.addresses import client_address
from .evidence import evidence_log, live_certifications
from .faces import selectors as face_selectors
from .forms import CodeForm, IdNumberForm, PhoneForm, StaffAuthenticationForm
from .models import Pensioner, Role
from .selectors import offices_for, pensioners_visible_to
from .signin import (
    SignInError,
    pensioner_code_request,
    pensioner_sign_in,
    relative_code_request,
    relative_sign_in,
)


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return render(request, "certification/landing.html")
    if user.role == Role.PENSIONER:
        return redirect("certification:pensioner_home")
    if user.role == Role.RELATIVE:
        return redirect("certification:relative_home")
    if user.is_portal_admin:
        return redirect("certification:admin_home")
    return redirect("certification:staff_home")


class StaffLoginView(LoginView):
    template_name = "certification/login_staff.html"
    authentication_form = StaffAuthenticationForm


def _remember_next(request: HttpRequest) -> None:
    """Keep ?next= (a page the person was sent away from) across the two sign-in steps."""
    nxt = request.GET.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        request.session["signin_next"] = nxt


def _after_sign_in(request: HttpRequest, default: str) -> HttpResponse:
    nxt = request.session.pop("signin_next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return redirect(nxt)
    return redirect(default)


@require_http_methods(["GET", "POST"])
def pensioner_login(request: HttpRequest) -> HttpResponse:
    _remember_next(request)
    form = IdNumberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pensioner_code_request(id_number=form.cleaned_data["id_number"], client_address=client_address(request))
        except SignInError as exc:
            form.add_error(None, str(exc))
        else:
            request.session["signin_id_number"] = form.cleaned_data["id_number"]
            return redirect("certification:pensioner_login_code")
    return render(request, "certification/login_pensioner.html", {"form": form})


@require_http_methods(["GET", "POST"])
def pensioner_login_code(request: HttpRequest) -> HttpResponse:
    id_number = request.session.get("signin_id_number")
    if not id_number:
        return redirect("certification:pensioner_login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = pensioner_sign_in(id_number=id_number, code=form.cleaned_data["code"],
                                     client_address=client_address(request))
        except SignInError as exc:
            form.add_error(None, str(exc))
        else:
            request.session.pop("signin_id_number", None)
            nxt = request.session.get("signin_next", "")
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            request.session["signin_next"] = nxt  # login() cycles the session key, not its data
            return _after_sign_in(request, "certification:pensioner_home")
    return render(request, "certification/login_code.html", {
        "form": form, "masked": idnumber.mask(id_number), "who": "pensioner",
        "restart_url": "certification:pensioner_login",
    })


@require_http_methods(["GET", "POST"])
def relative_login(request: HttpRequest) -> HttpResponse:
    _remember_next(request)
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            relative_code_request(phone=form.cleaned_data["phone"], client_address=client_address(request))
        except SignInError as exc:
            form.add_error(None, str(exc))
        else:
            request.session["signin_phone"] = form.cleaned_data["phone"]
            request.session["signin_name"] = form.cleaned_data["name"]
            return redirect("certification:relative_login_code")
    return render(request, "certification/login_relative.html", {"form": form})


@require_http_methods(["GET", "POST"])
def relative_login_code(request: HttpRequest) -> HttpResponse:
    phone = request.session.get("signin_phone")
    if not phone:
        return redirect("certification:relative_login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = relative_sign_in(phone=phone, code=form.cleaned_data["code"], name=request.session.get("signin_name", ""),
                                    client_address=client_address(request))
        except SignInError as exc:
            form.add_error(None, str(exc))
        else:
            request.session.pop("signin_phone", None)
            nxt = request.session.get("signin_next", "")
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            request.session["signin_next"] = nxt
            return _after_sign_in(request, "certification:relative_home")
    return render(request, "certification/login_code.html", {
        "form": form, "masked": idnumber.mask_phone(phone), "who": "relative",
        "restart_url": "certification:relative_login",
    })


NEXT_STEP = {
    rules.Status.ACTIVE: gettext_lazy("您无需任何操作。只要您正常就医、乘车、领取补贴，系统会自动为您续期。"),
    rules.Status.WARNING: gettext_lazy("您的认证已到期，请尽快完成认证，否则养老金将暂停发放。最方便的是下方的“刷脸认证”。"),
    rules.Status.SUSPENDED: gettext_lazy("您的养老金已暂停发放。完成任意一种认证后即可恢复，并补发暂停期间的养老金。"),
    rules.Status.DECEASED: gettext_lazy("系统里登记了您已去世，养老金已停发。如果登记错了，请点下面的“我有异议 / 我还健在”，"
                                        "街道工作人员会核实，核实后恢复发放并补发。也可以打电话或带身份证到街道社保窗口。"),
}
# Issue 12: never push a face check that cannot run (no reference photo, or tries used
# up today). Name the channels that do work instead.
NEXT_STEP_NO_FACE = {
    rules.Status.WARNING: gettext_lazy("您的认证已到期，请尽快完成认证，否则养老金将暂停发放。请带身份证到街道社保窗口认证，"
                                       "或打电话预约上门认证、视频认证。"),
    rules.Status.SUSPENDED: gettext_lazy("您的养老金已暂停发放。请带身份证到街道社保窗口认证，或打电话预约上门认证、视频认证。"
                                         "认证后即可恢复，并补发暂停期间的养老金。"),
}


def _face_state(p: Pensioner) -> tuple[bool, bool]:
    """(has a reference photo, can run "certify me" today)."""
    ref = face_selectors.has_reference(p)
    return ref, ref and face_selectors.face_check_open(p)


@pensioner_required
def pensioner_home(request: HttpRequest) -> HttpResponse:
    p: Pensioner = Pensioner.objects.select_related("street_office__district", "community").get(
        pk=request.user.pensioner_id
    )
    today = rules.today_local()
    history = list(live_certifications(p, limit=50))
    labels = _source_labels()
    for c in history:
        c.source_label = labels.get(c.source, c.source)
    evidence = [{**e, "label": labels.get(e["source"], e["source"]),
                 "day": dt.date.fromisoformat(e["event_date"])} for e in evidence_log(p, today=today)]
    has_reference, face_open = _face_state(p)
    status = rules.Status(p.status)
    next_step = NEXT_STEP[status] if face_open else NEXT_STEP_NO_FACE.get(status, NEXT_STEP[status])
    return render(request, "certification/pensioner_home.html", {
        "p": p,
        "today": today,
        "next_step": next_step,
        "days_left": (p.valid_until - today).days,
        "suspension_on": rules.suspension_date(p.valid_until),
        "history": history,
        "evidence": evidence,
        "has_reference": has_reference,
        "face_open": face_open,
        "back_pays": p.back_pays.prefetch_related("lines").order_by("-restored_on")[:5],
        # A recovered overpayment of a revoked death, paid back by the next roster (issue 10).
        "refunds": p.overpayments.filter(refund__gt=0),
    })


def _source_labels() -> dict[str, str]:
    return source_labels()


@relative_required
def relative_home(request: HttpRequest) -> HttpResponse:
    helped = request.user.helped_certifications.select_related("pensioner").order_by("-occurred_on")[:20]
    return render(request, "certification/relative_home.html", {"helped": helped})


def _status_counts(pensioners) -> dict[str, int]:  # type: ignore[no-untyped-def]
    counts = pensioners.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(status="active")),
        warning=Count("pk", filter=Q(status="warning")),
        suspended=Count("pk", filter=Q(status="suspended")),
        deceased=Count("pk", filter=Q(status="deceased")),
    )
    return counts


@staff_required
def staff_home(request: HttpRequest) -> HttpResponse:
    offices = offices_for(request.user).select_related("district")
    per_office = (
        pensioners_visible_to(request.user)
        .values("street_office_id")
        .annotate(
            warning=Count("pk", filter=Q(status="warning")),
            suspended=Count("pk", filter=Q(status="suspended")),
            total=Count("pk"),
        )
    )
    by_office = {row["street_office_id"]: row for row in per_office}
    rows = [{"office": o, **by_office.get(o.pk, {"warning": 0, "suspended": 0, "total": 0})} for o in offices]
    if request.user.is_portal_admin:
        rows = [r for r in rows if r["total"]]
    return render(request, "certification/staff_home.html", {"rows": rows})


@admin_required
def admin_home(request: HttpRequest) -> HttpResponse:
    counts = _status_counts(Pensioner.objects.all())
    return render(request, "certification/admin_home.html", {"counts": counts})


def locked_out(request: HttpRequest) -> HttpResponse:
    messages.error(request, _("登录失败次数过多，账号已暂时锁定，请一小时后再试或联系管理员。"))
    return render(request, "certification/locked_out.html", status=429)


@require_http_methods(["POST"])
def text_size(request: HttpRequest) -> HttpResponse:
    """The 大字 switch: remembered for a year in a cookie that only says large or normal."""
    nxt = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        nxt = "/"
    response = redirect(nxt)
    if request.POST.get("size") == "large":
        response.set_cookie("text_size", "large", max_age=365 * 24 * 3600, samesite="Lax",
                            secure=request.is_secure(), httponly=True)
    else:
        response.delete_cookie("text_size", samesite="Lax")
    return response
