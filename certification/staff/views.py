"""Staff warning-queue pages, and the home-visit request form for pensioners and relatives.

Views read and call services. Every pensioner look-up goes through
certification.selectors.pensioner_for_staff or the scoped look-ups in .selectors,
so another office's person is a 404 on every page.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certification import rules
from certification.access import role_required, staff_required
from certification.lookups import LookupLimited
from certification.models import Pensioner, Role
from certification.selectors import certification_history, pensioner_for_staff

from . import selectors, services
from .forms import (
    CallOutcomeForm,
    CounterForm,
    DeathReportForm,
    HomeVisitForm,
    HomeVisitRequestForm,
    QueueFilterForm,
    RelativeVisitRequestForm,
    SmsForm,
    VideoForm,
    VisitOutcomeForm,
)
from .models import ContactAttempt, DeathReport, HomeVisit, HomeVisitRequest
from .presenters import queue_rows_html

PAGE_SIZE = 50


def _filter_form(request: HttpRequest) -> QueueFilterForm:
    offices = list(selectors.offices_with_communities(request.user))
    request.user._queue_office_ids = [o.pk for o in offices]  # reused by the selectors: one query fewer
    return QueueFilterForm(request.GET or None, offices=offices)


@staff_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    today = rules.today_local()
    form = _filter_form(request)
    qs = selectors.queue(request.user, form.filters(), today=today)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.queue_rows(list(page.object_list), today=today)
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "staff/queue.html", {
        "form": form, "page": page, "rows": rows, "today": today, "query": params.urlencode(),
        "rows_html": queue_rows_html(rows, multi_office=len(form.fields["office"].choices) > 2, today=today),
        "visit_requests": selectors.pending_visit_requests(request.user)[:20],
        "death_reports": selectors.pending_death_reports(request.user)[:20],
    })


@staff_required
@require_GET
def queue_export(request: HttpRequest) -> HttpResponse:
    today = rules.today_local()
    form = _filter_form(request)
    qs = selectors.queue(request.user, form.filters(), today=today)
    data = services.queue_export_xlsx(user=request.user, pensioners=qs.iterator(chunk_size=1000), today=today,
                                      filters=form.cleaned_data if form.is_bound and form.is_valid() else {})
    resp = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = f'attachment; filename="queue-{today:%Y%m%d}.xlsx"'
    return resp


def _detail_context(request: HttpRequest, p: Pensioner, **forms: object) -> dict[str, object]:
    # This page shows the full ID number and phone: every render is audited, the 400 page of an
    # invalid form included (issue 13 item 8), not only the first GET.
    services.pensioner_record_open(pensioner=p, staff=request.user, via="form_error" if forms else "page")
    today = rules.today_local()
    return {
        "p": p,
        "today": today,
        "age": rules.age_on(p.birth_date, today),
        "days_left": rules.days_until_suspension(p.valid_until, today),
        "suspension_on": rules.suspension_date(p.valid_until),
        "history": certification_history(p, limit=20),
        "contacts": ContactAttempt.objects.filter(pensioner=p).select_related("staff")[:20],
        "visits": HomeVisit.objects.filter(pensioner=p).select_related("assignee")[:10],
        "visit_requests": HomeVisitRequest.objects.filter(pensioner=p, state=HomeVisitRequest.State.PENDING),
        "death_reports": DeathReport.objects.filter(pensioner=p).select_related("reported_by", "confirmed_by")[:5],
        "messages_sent": p.messages.order_by("-created_at")[:10],
        "call_form": forms.get("call_form") or CallOutcomeForm(),
        "sms_form": forms.get("sms_form") or SmsForm(),
        "visit_form": forms.get("visit_form") or HomeVisitForm(office_id=p.street_office_id,
                                                              initial={"assignee": request.user.pk}),
        "outcome_form": VisitOutcomeForm(),
        "counter_form": forms.get("counter_form") or CounterForm(initial={"occurred_on": today}),
        "video_form": forms.get("video_form") or VideoForm(initial={"occurred_on": today}),
        "death_form": forms.get("death_form") or DeathReportForm(),
    }


@staff_required
@require_GET
def pensioner_detail(request: HttpRequest, key: str) -> HttpResponse:
    p = _pensioner(request, key)
    return render(request, "staff/pensioner_detail.html", _detail_context(request, p))


def _pensioner(request: HttpRequest, key: str) -> Pensioner:
    # The route's converter already refused anything that is not a well-formed key.
    return pensioner_for_staff(request.user, key=key)


def _action(request: HttpRequest, p: Pensioner, form_key: str, form: object, run) -> HttpResponse:  # type: ignore[no-untyped-def]
    """Run one action: success → message + back to the record; invalid → the record with errors."""
    if form.is_valid():  # type: ignore[attr-defined]
        try:
            message = run(form.cleaned_data)  # type: ignore[attr-defined]
        except services.ActionError as exc:
            form.add_error(None, str(exc))  # type: ignore[attr-defined]
        else:
            messages.success(request, message)
            return redirect("staff:pensioner", key=p.public_key)
    messages.error(request, _("没有保存，请检查下面标红的内容。"))
    return render(request, "staff/pensioner_detail.html", _detail_context(request, p, **{form_key: form}),
                  status=400)


@staff_required
@require_POST
def call_outcome(request: HttpRequest, key: str) -> HttpResponse:
    p = _pensioner(request, key)
    return _action(request, p, "call_form", CallOutcomeForm(request.POST), lambda d: (
        services.contact_record(pensioner=p, staff=request.user, outcome=d["outcome"], note=d["note"])
        and _("已记录联系结果。")))


@staff_required
@require_POST
def sms_now(request: HttpRequest, key: str) -> HttpResponse:
    p = _pensioner(request, key)
    return _action(request, p, "sms_form", SmsForm(request.POST), lambda d: (
        services.sms_send_now(pensioner=p, staff=request.user, text=d["text"])
        and _("短信已排队发送（晚 8 点到早 8 点之间的短信会在早 8 点发出）。")))


@staff_required
@require_POST
def home_visit_schedule(request: HttpRequest, key: str) -> HttpResponse:
    p = _pensioner(request, key)
    form = HomeVisitForm(request.POST, office_id=p.street_office_id)

    def run(d: dict) -> str:
        req = None
        if d.get("request_id"):
            req = selectors.visit_request_for_staff(request.user, d["request_id"])
        visit = services.home_visit_schedule(pensioner=p, staff=request.user, visit_on=d["visit_on"],
                                             assignee=d["assignee"], request=req)
        return _("已安排上门：%(d)s，已短信通知本人。") % {"d": visit.visit_on.strftime("%Y-%m-%d")}

    return _action(request, p, "visit_form", form, run)


@staff_required
@require_POST
def home_visit_outcome(request: HttpRequest, visit_pk: int) -> HttpResponse:
    visit = selectors.visit_for_staff(request.user, visit_pk)
    p = pensioner_for_staff(request.user, pk=visit.pensioner_id)
    return _action(request, p, "outcome_form", VisitOutcomeForm(request.POST), lambda d: (
        services.home_visit_record_outcome(visit=visit, staff=request.user, outcome=d["outcome"], note=d["note"])
        and _("已登记上门结果。")))


@staff_required
@require_POST
def counter_certification(request: HttpRequest, key: str) -> HttpResponse:
    p = _pensioner(request, key)
    return _action(request, p, "counter_form", CounterForm(request.POST), lambda d: (
        services.counter_certify(pensioner=p, staff=request.user, occurred_on=d["occurred_on"],
                                 id_checked=d["id_checked"], note=d["note"])
        and _("窗口认证已登记，状态已恢复正常。")))


@staff_required
@require_POST
def video_certification(request: HttpRequest, key: str) -> HttpResponse:
    p = _pensioner(request, key)
    return _action(request, p, "video_form", VideoForm(request.POST), lambda d: (
        services.video_certify(pensioner=p, staff=request.user, occurred_on=d["occurred_on"],
                               relative_name=d["relative_name"], relationship=d["relationship"], note=d["note"])
        and _("视频认证已登记，状态已恢复正常。")))


@staff_required
@require_POST
def death_report(request: HttpRequest, key: str) -> HttpResponse:
    p = _pensioner(request, key)
    return _action(request, p, "death_form", DeathReportForm(request.POST), lambda d: (
        services.death_report(pensioner=p, staff=request.user, death_date=d["death_date"],
                              evidence_ref=d["evidence_ref"], note=d["note"])
        and _("死亡报告已提交，需另一名工作人员或管理员复核确认后生效。")))


@staff_required
@require_POST
def death_decide(request: HttpRequest, report_pk: int) -> HttpResponse:
    report = selectors.death_report_for_staff(request.user, report_pk)
    try:
        if request.POST.get("decision") == "reject":
            services.death_reject(report=report, staff=request.user)
            messages.success(request, _("已驳回该死亡报告。"))
        else:
            services.death_confirm(report=report, staff=request.user)
            messages.success(request, _("已确认死亡，停止发放；如有多发将生成追回记录。"))
    except services.ActionError as exc:
        messages.error(request, str(exc))
    return redirect("staff:pensioner", key=report.pensioner.public_key)


# ---- 预约上门认证: pensioners and relatives -------------------------------------------

@role_required(Role.PENSIONER, Role.RELATIVE)
@require_http_methods(["GET", "POST"])
def home_visit_request(request: HttpRequest) -> HttpResponse:
    user = request.user
    is_relative = user.role == Role.RELATIVE
    form_class = RelativeVisitRequestForm if is_relative else HomeVisitRequestForm
    initial = {"contact_phone": user.phone or (user.pensioner.phone if user.pensioner_id else "")}
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if is_relative:
                # The limits and the uniform answer of "certify someone else" (issue 13 item 6).
                p = services.visit_request_target_find(helper=user, id_number=d["id_number"], name=d["name"])
            else:
                p = Pensioner.objects.select_related("street_office").get(pk=user.pensioner_id)
            services.home_visit_request_create(
                pensioner=p, requested_by=user, reason=d["reason"], reason_note=d["reason_note"],
                preferred_dates=form.dates(), contact_phone=d["contact_phone"])
        except LookupLimited:
            form.add_error(None, _("尝试次数太多了，请过一个小时再试，或拨打 12333。"))
            return render(request, "staff/home_visit_request.html", {"form": form, "is_relative": is_relative},
                          status=429)
        except services.ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("预约已提交。街道工作人员会打电话和您确认上门时间。"))
            return redirect("certification:home")
    return render(request, "staff/home_visit_request.html", {"form": form, "is_relative": is_relative})
