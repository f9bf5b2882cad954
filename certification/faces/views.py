"""Pages: "certify me" (给我认证), "certify someone else" (给他人认证), the verdict, counter enrolment.

The capture itself talks to the REST API (certification/faces/api.py) from static/faces/capture.js.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certification.access import (
    admin_required,
    pensioner_required,
    relative_required,
    role_required,
    staff_required,
)
from certification.models import Pensioner, Role
from certification.rules import Status
from certification.selectors import pensioner_for_staff

from . import engine, services
from .models import BulkEnrolment, Consent, FaceAttempt, Mode, ReferenceFace

RELATIONSHIPS = [
    ("子女", gettext_lazy("子女")),
    ("配偶", gettext_lazy("配偶")),
    ("孙子女", gettext_lazy("孙子女")),
    ("兄弟姐妹", gettext_lazy("兄弟姐妹")),
    ("其他亲属", gettext_lazy("其他亲属")),
]

def _ua(request: HttpRequest) -> str:
    return request.headers.get("User-Agent", "")


@pensioner_required
def self_start(request: HttpRequest) -> HttpResponse:
    """Step 1: plain-language consent, recorded; then the camera page."""
    p: Pensioner = request.user.pensioner
    if p.status == Status.DECEASED:
        # Recorded as deceased: no face check (services refuse it too); their page has the appeal.
        messages.info(request, _("系统记录显示您已去世，暂时不能刷脸认证。如果记录有误，请在本页点“我有异议 / 我还健在”提出申诉。"))
        return redirect("certification:pensioner_home")
    has_reference = ReferenceFace.objects.filter(pensioner=p).exists()
    exhausted = services.attempts_exhausted(p)
    if request.method == "POST" and has_reference and not exhausted and request.POST.get("agree") == "yes":
        consent = services.consent_record(user=request.user, pensioner=p, mode=Mode.SELF, user_agent=_ua(request))
        return redirect("faces:capture", consent.pk)
    return render(request, "faces/consent.html", {
        "pensioner": p, "has_reference": has_reference, "exhausted": exhausted, "mode": "self",
        "office": p.street_office, "retention_days": settings.FACE_FRAME_RETENTION_DAYS,
        "in_queue": p.status in (Status.WARNING, Status.SUSPENDED),
    })


class ProxyForm(forms.Form):
    id_number = forms.CharField(label=gettext_lazy("老人的身份证号"), max_length=18, min_length=15,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}))
    name = forms.CharField(label=gettext_lazy("老人的姓名"), max_length=64)
    relationship = forms.ChoiceField(label=gettext_lazy("您和老人的关系"), choices=RELATIONSHIPS)
    agree = forms.BooleanField(label=gettext_lazy("老人本人已知道并同意：为这次认证拍摄人脸照片"), required=True)


@relative_required
def proxy_start(request: HttpRequest) -> HttpResponse:
    """Certify someone else: ID number + name + relationship, consent; uniform answer when they do not match."""
    form = ProxyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            p = services.proxy_target_find(helper=request.user, id_number=d["id_number"], name=d["name"])
            services.proxy_quota_check(helper=request.user, pensioner=p)
            if services.attempts_exhausted(p):
                raise services.FaceDenied("attempts_exhausted", _(services.EXHAUSTED_TEXT), 429)
        except services.FaceDenied as exc:
            form.add_error(None, exc.message)
        else:
            consent = services.consent_record(user=request.user, pensioner=p, mode=Mode.PROXY,
                                              helper_relationship=d["relationship"], user_agent=_ua(request))
            return redirect("faces:capture", consent.pk)
    return render(request, "faces/proxy_form.html", {"form": form})


def _consent_today(request: HttpRequest, consent_id: int) -> Consent | None:
    consent = Consent.objects.filter(pk=consent_id, user=request.user).select_related("pensioner__street_office").first()
    if consent is None or timezone.localdate(consent.given_at) != timezone.localdate():
        return None
    return consent


@role_required(Role.PENSIONER, Role.RELATIVE)
def capture(request: HttpRequest, consent_id: int) -> HttpResponse:
    """Camera, server-led prompts, frames sent as captured: driven by static/faces/capture.js.

    Consent holds for the day it was given (issue 12): a retry comes straight back here.
    """
    consent = _consent_today(request, consent_id)
    if consent is None:
        return redirect("faces:proxy_start" if request.user.role == Role.RELATIVE else "faces:self_start")
    p = consent.pensioner
    if services.attempts_exhausted(p):
        return redirect("faces:proxy_start" if consent.mode == Mode.PROXY else "faces:self_start")
    config = {
        "consentId": consent.pk,
        "sessionsUrl": reverse("api:faces-sessions"),
        "maxSide": engine.WORK_MAX_SIDE,
        "speak": True,
        "texts": {
            "ready": _("请看着屏幕，准备好"),
            "network": _("网络不通，请稍后再试。"),
            "step": _("第 {k} 步，共 {n} 步"),
            "wait": _("请正对镜头，等待提示"),
        },
    }
    return render(request, "faces/capture.html", {
        "consent": consent, "config": config, "proxy": consent.mode == Mode.PROXY, "office": p.street_office,
        "tries_left": services.tries_left(p),
    })


def _retry_url(request: HttpRequest, attempt: FaceAttempt) -> str:
    consent = services.consent_for_today(user=request.user, pensioner=attempt.pensioner, mode=attempt.mode)
    if consent is not None:
        return reverse("faces:capture", args=[consent.pk])
    return reverse("faces:proxy_start" if attempt.mode == Mode.PROXY else "faces:self_start")


@role_required(Role.PENSIONER, Role.RELATIVE)
def result(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = (FaceAttempt.objects.filter(pk=attempt_id, user=request.user)
               .select_related("pensioner__street_office", "session").first())
    if attempt is None:
        raise Http404
    verdict = services.verdict_for(attempt)
    return render(request, "faces/result.html", {
        "attempt": attempt, "verdict": verdict, "proxy": attempt.mode == Mode.PROXY,
        "office": attempt.pensioner.street_office, "retry_url": _retry_url(request, attempt),
        "max_failed": settings.FACE_MAX_FAILED_PER_DAY,
    })


class CounterEnrolForm(forms.Form):
    id_number = forms.CharField(label=gettext_lazy("身份证号"), max_length=18, min_length=15)
    photo = forms.FileField(label=gettext_lazy("现场拍摄的照片"),
                            widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "user"}))


@staff_required
def counter_enrol(request: HttpRequest) -> HttpResponse:
    """Staff take a photo at the counter and store it as the reference. Other offices' people are a 404."""
    form = CounterEnrolForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        p = pensioner_for_staff(request.user, id_number=form.cleaned_data["id_number"])
        photo = form.cleaned_data["photo"]
        if photo.size > settings.FACE_MAX_PHOTO_BYTES:
            form.add_error("photo", _("照片文件太大"))
        else:
            try:
                services.reference_enroll(pensioner=p, image=photo.read(), source=ReferenceFace.Source.COUNTER,
                                          source_ref=f"counter:{request.user.username}", enrolled_by=request.user)
            except engine.FaceError as exc:
                form.add_error("photo", exc.message)
            else:
                messages.success(request, _("已为 %(name)s 登记认证照片。") % {"name": p.name})
                return redirect("faces:counter_enrol")
    return render(request, "faces/counter_enrol.html", {"form": form})


class BulkForm(forms.Form):
    folder = forms.CharField(label=gettext_lazy("服务器上的证件照文件夹（文件名为身份证号，如 370202195001010011.jpg）"),
                             max_length=500)


@admin_required
def bulk_enrol(request: HttpRequest) -> HttpResponse:
    """Start a bulk ID-photo enrolment (a Celery task on the `face` queue) and list recent runs."""
    form = BulkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.bulk_enrolment_start(folder=form.cleaned_data["folder"].strip(), started_by=request.user)
        except services.FaceDenied as exc:  # outside the import root (issue 13)
            form.add_error("folder", exc.message)
        else:
            return redirect("faces:bulk_detail", run.pk)
    runs = BulkEnrolment.objects.order_by("-id")[:20]
    return render(request, "faces/bulk.html", {"form": form, "runs": runs})


@admin_required
def bulk_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = BulkEnrolment.objects.filter(pk=run_id).first()
    if run is None:
        raise Http404
    return render(request, "faces/bulk_detail.html", {"run": run})
