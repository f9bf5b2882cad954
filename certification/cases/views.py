"""Pages: the street office's case list and case pages, and 我有异议 for pensioners and relatives.

Views read and call services. Staff look-ups go through .selectors (office scope:
another office's case or person is a 404); the recorder of a two-person step who
tries to confirm it gets a 403 (certification.two_person).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certification import rules as core_rules
from certification.access import pensioner_required, relative_required, staff_required
from certification.models import Pensioner
from certification.selectors import pensioner_for_staff
from certification.two_person import second_person_allowed

from . import exports, selectors, services
from .forms import (
    AnswerForm,
    AppealForm,
    CaseFilterForm,
    DecisionForm,
    RelativeAppealForm,
    RevocationForm,
    StaffAppealForm,
)
from .models import Appeal, CaseKind
from .workdays import due_date

PAGE_SIZE = 50


def staff_pensioner_url(p: Pensioner) -> str:
    """The staff record page of a person (opaque key in the URL, never the ID number)."""
    return reverse("staff:pensioner", kwargs={"key": p.public_key})


def _pensioner_by_key(request: HttpRequest, key: str) -> Pensioner:
    return pensioner_for_staff(request.user, key=key)


# ---- the case list --------------------------------------------------------------------

@staff_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    today = core_rules.today_local()
    form = CaseFilterForm(request.GET or None)
    kind = form.cleaned_data["kind"] if form.is_valid() else ""
    page = Paginator(selectors.cases_for(request.user, kind=kind), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.case_rows(page.object_list, today=today)
    for r in rows:
        r.pensioner_url = staff_pensioner_url(r.pensioner)
        r.url = case_url(r.kind, r.id)
    return render(request, "cases/list.html", {
        "form": form, "page": page, "rows": rows, "kind": kind, "today": today,
        "case_count_rows": selectors.count_rows(selectors.case_counts(request.user, today=today)),
        "by_office": selectors.cases_by_office(request.user, today=today) if request.user.is_portal_admin else None,
    })


def case_url(kind: str, pk: int) -> str:
    if kind == CaseKind.APPEAL:
        return reverse("cases:appeal", args=[pk])
    if kind == CaseKind.REVOCATION:
        return reverse("cases:revocation", args=[pk])
    if kind in (CaseKind.DEATH_VERIFY, CaseKind.DEATH_CONFLICT):
        return reverse("cases:death_record", args=[pk])
    try:
        return reverse("bigdata:fraud_alert", args=[pk])
    except NoReverseMatch:
        return ""


@staff_required
@require_GET
def case_export(request: HttpRequest) -> HttpResponse:
    today = core_rules.today_local()
    form = CaseFilterForm(request.GET or None)
    kind = form.cleaned_data["kind"] if form.is_valid() else ""
    data = exports.cases_xlsx(user=request.user, kind=kind, today=today)
    resp = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = f'attachment; filename="cases-{today:%Y%m%d}.xlsx"'
    return resp


# ---- one case ---------------------------------------------------------------------------

def _refused(request: HttpRequest, exc: services.CaseError) -> None:
    messages.error(request, str(exc))


@staff_required
@require_http_methods(["GET", "POST"])
def appeal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = selectors.appeal_for_staff(request.user, pk)
    form = AnswerForm(request.POST or None, initial={"occurred_on": core_rules.today_local()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.appeal_answer(appeal=appeal, staff=request.user, outcome=d["outcome"], note=d["note"],
                                   channel=d["channel"], occurred_on=d["occurred_on"])
        except services.CaseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已答复，并已短信告知本人。"))
            return redirect("cases:appeal", pk=appeal.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "cases/appeal.html", {
        "a": appeal, "p": appeal.pensioner, "form": form, "pensioner_url": staff_pensioner_url(appeal.pensioner),
        "revocation_form": RevocationForm(),
    }, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def death_record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = selectors.death_record_for_staff(request.user, pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if d["decision"] == "confirm":
                services.death_record_confirm(record=record, staff=request.user, note=d["note"])
                messages.success(request, _("已确认死亡：自记录的死亡日期起停发，多发部分已生成追回记录。"))
            else:
                services.death_record_reject(record=record, staff=request.user, reason=d["note"])
                messages.success(request, _("已驳回该死亡记录，养老金照常发放，驳回原因已保存。"))
        except services.CaseError as exc:
            _refused(request, exc)
        else:
            return redirect("cases:death_record", pk=record.pk)
    return render(request, "cases/death_record.html", {
        "r": record, "p": record.pensioner, "form": form, "pensioner_url": staff_pensioner_url(record.pensioner),
        # Records opened by the nightly matching carry no stored deadline: N working days from opening.
        "due_on": record.due_on or due_date(record.opened_on),
    }, status=400 if request.method == "POST" else 200)


@staff_required
@require_http_methods(["GET", "POST"])
def revocation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rev = selectors.revocation_for_staff(request.user, pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if d["decision"] == "confirm":
                services.revocation_confirm(revocation=rev, user=request.user, note=d["note"])
                messages.success(request, _("已撤销死亡登记：养老金恢复发放，停发期间补发，多发追回已取消，已短信告知本人。"))
            else:
                services.revocation_refuse(revocation=rev, user=request.user, note=d["note"])
                messages.success(request, _("已退回该撤销登记，死亡登记保持不变。"))
        except services.CaseError as exc:
            _refused(request, exc)
        else:
            return redirect("cases:revocation", pk=rev.pk)
    return render(request, "cases/revocation.html", {
        "rev": rev, "p": rev.pensioner, "form": form, "pensioner_url": staff_pensioner_url(rev.pensioner),
        "can_decide": second_person_allowed(recorded_by_id=rev.recorded_by_id, confirmer=request.user,
                                            office_id=rev.pensioner.street_office_id),
    }, status=400 if request.method == "POST" else 200)


# ---- staff actions on a person (from the record page) ------------------------------------

@staff_required
@require_POST
def staff_appeal_file(request: HttpRequest, key: str) -> HttpResponse:
    """A caller on the phone line: staff file the appeal on their behalf."""
    p = _pensioner_by_key(request, key)
    form = StaffAppealForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            appeal = services.appeal_file(pensioner=p, filed_by=request.user, via=Appeal.Via.STAFF, kind=d["kind"],
                                          text=d["text"], contact_phone=d["contact_phone"])
        except services.CaseError as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("异议已登记，答复期限 %(d)s。") % {"d": appeal.due_on.isoformat()})
            return redirect("cases:appeal", pk=appeal.pk)
    else:
        messages.error(request, _("没有保存：请选择异议类型。"))
    return redirect(staff_pensioner_url(p))


@staff_required
@require_POST
def revocation_create(request: HttpRequest, key: str) -> HttpResponse:
    p = _pensioner_by_key(request, key)
    form = RevocationForm(request.POST)
    if form.is_valid():
        try:
            rev = services.revocation_record(pensioner=p, staff=request.user, reason=form.cleaned_data["reason"])
        except services.CaseError as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("撤销登记已保存，需本街道另一名工作人员或管理员确认后生效。"))
            return redirect("cases:revocation", pk=rev.pk)
    else:
        messages.error(request, _("请填写撤销原因。"))
    return redirect(staff_pensioner_url(p))


# ---- 我有异议: pensioners and relatives ----------------------------------------------------

@pensioner_required
@require_http_methods(["GET", "POST"])
def pensioner_appeal(request: HttpRequest) -> HttpResponse:
    p = Pensioner.objects.select_related("street_office").get(pk=request.user.pensioner_id)
    initial = {"contact_phone": p.phone, "kind": Appeal.Kind.ALIVE if p.status == "deceased" else
               Appeal.Kind.CERTIFIED if p.status == "suspended" else None}
    form = AppealForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.appeal_file(pensioner=p, filed_by=request.user, via=Appeal.Via.PENSIONER, kind=d["kind"],
                                 text=d["text"], contact_phone=d["contact_phone"])
        except services.CaseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已提交。街道工作人员会尽快核实，并用短信告诉您结果。"))
            return redirect("certification:pensioner_home")
    return render(request, "cases/appeal_form.html", {
        "form": form, "p": p, "open": Appeal.objects.filter(pensioner=p, state=Appeal.State.OPEN).first(),
    }, status=400 if request.method == "POST" else 200)


def _helped(user) -> list[Pensioner]:  # type: ignore[no-untyped-def]
    ids = user.helped_certifications.values_list("pensioner_id", flat=True)
    return list(Pensioner.objects.filter(pk__in=ids).order_by("name")[:10])


@relative_required
@require_http_methods(["GET", "POST"])
def relative_appeal(request: HttpRequest) -> HttpResponse:
    """For someone the relative helped (chosen from the list), or by ID number + name."""
    helped = _helped(request.user)
    chosen_key = request.POST.get("for") or request.GET.get("for") or ""
    chosen = next((h for h in helped if h.public_key == chosen_key), None) if chosen_key else None
    if chosen_key and chosen is None:
        raise Http404
    form_class = AppealForm if chosen else RelativeAppealForm
    form = form_class(request.POST or None, initial={"contact_phone": request.user.phone})
    status = 200
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            p = chosen or services.appeal_target_find(helper=request.user, id_number=d["id_number"], name=d["name"])
            services.appeal_file(pensioner=p, filed_by=request.user, via=Appeal.Via.RELATIVE, kind=d["kind"],
                                 text=d["text"], contact_phone=d["contact_phone"])
        except services.LookupLimited as exc:
            form.add_error(None, str(exc))
            status = 429
        except services.CaseError as exc:
            form.add_error(None, str(exc))
            status = 400
        else:
            messages.success(request, _("已提交。街道工作人员会尽快核实，并用短信告诉老人结果。"))
            return redirect("certification:relative_home")
    elif request.method == "POST":
        status = 400
    return render(request, "cases/appeal_form.html", {
        "form": form, "is_relative": True, "chosen": chosen, "helped": helped,
    }, status=status)
