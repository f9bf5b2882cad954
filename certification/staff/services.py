"""Staff actions on the warning queue. Keyword-only, atomic, one audit row each (STYLE §4).

Callers fetch the pensioner through certification.selectors.pensioner_for_staff (or
the scoped look-ups in .selectors), so another office's person is a 404 before any
of these run.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certification import idnumber, rules
from certification.lookups import lookup_count
from certification.models import Pensioner, Role, User
from certification.rules import Status
from certification.services import (
    CertificationResult,
    audit_log,
    certification_record,
    pensioner_mark_deceased,
    pensioner_set_phone_invalid,
)
from certification.spreadsheets import xlsx_filter, xlsx_layout, xlsx_row
from certification.two_person import second_person_check
from notifications.models import Message
from notifications.services import outbox_enqueue
from notifications.texts import cn_date

from .models import (
    CallOutcome,
    ContactAttempt,
    DeathReport,
    HomeVisit,
    HomeVisitRequest,
    QueueState,
    VisitReason,
)
from .selectors import queue_rows

# Home-visit requests one account may file per 24 hours (a relative may help a few people).
REQUESTS_PER_DAY = 3


class ActionError(ValueError):
    """A refused action; the message is a plain Chinese sentence for the page or the API."""


def _check_alive(p: Pensioner) -> None:
    if p.status == Status.DECEASED:
        raise ActionError(_("该人员已登记死亡。"))


@transaction.atomic
def contact_record(*, pensioner: Pensioner, staff: User, outcome: str, note: str = "") -> ContactAttempt:
    """Record a phone call's outcome; a wrong number marks the phone invalid for the queue."""
    if outcome not in CallOutcome.values:
        raise ActionError(_("请选择联系结果。"))
    attempt = ContactAttempt.objects.create(pensioner=pensioner, staff=staff, outcome=outcome, note=note[:200])
    QueueState.objects.update_or_create(
        pensioner=pensioner, defaults={"last_contact_at": attempt.at, "last_outcome": outcome}
    )
    if outcome == CallOutcome.WRONG_NUMBER:
        pensioner_set_phone_invalid(pensioner_id=pensioner.pk, invalid=True, reason="工作人员电话核实：号码错误")
    audit_log(actor=staff, action="contact_record", pensioner=pensioner, outcome=outcome, note=note[:200])
    return attempt


@transaction.atomic
def sms_send_now(*, pensioner: Pensioner, staff: User, text: str) -> Message:
    """A staff-written SMS, through the outbox (quiet hours still apply)."""
    text = text.strip()
    if not text:
        raise ActionError(_("请填写短信内容。"))
    if not pensioner.phone:
        raise ActionError(_("该人员没有登记手机号。"))
    msg = outbox_enqueue(phone=pensioner.phone, template="staff_message", context={"text": text[:300]},
                         pensioner_id=pensioner.pk, dedup_key=f"staff-sms:{pensioner.pk}:{uuid.uuid4().hex}")
    audit_log(actor=staff, action="sms_send_now", pensioner=pensioner, message_id=msg.pk)
    return msg


def _office_staff_ok(assignee: User, pensioner: Pensioner) -> bool:
    if assignee.is_portal_admin:
        return True
    return assignee.role == Role.STAFF and assignee.street_offices.filter(pk=pensioner.street_office_id).exists()


@transaction.atomic
def home_visit_schedule(
    *,
    pensioner: Pensioner,
    staff: User,
    visit_on: dt.date,
    assignee: User,
    request: HomeVisitRequest | None = None,
    today: dt.date | None = None,
) -> HomeVisit:
    """Book a home visit; the pensioner gets an SMS with the date (sent via the outbox)."""
    today = today or rules.today_local()
    _check_alive(pensioner)
    if visit_on < today:
        raise ActionError(_("上门日期不能早于今天。"))
    if not _office_staff_ok(assignee, pensioner):
        raise ActionError(_("上门人员须为本街道工作人员。"))
    if request is not None and (request.pensioner_id != pensioner.pk or request.state != HomeVisitRequest.State.PENDING):
        raise ActionError(_("该预约申请已处理。"))
    visit = HomeVisit.objects.create(pensioner=pensioner, request=request, visit_on=visit_on, assignee=assignee,
                                     scheduled_by=staff)
    if request is not None:
        HomeVisitRequest.objects.filter(pk=request.pk).update(state=HomeVisitRequest.State.SCHEDULED)
    phone = request.contact_phone if request is not None and request.contact_phone else pensioner.phone
    office = pensioner.street_office
    outbox_enqueue(
        phone=phone, template="home_visit_confirmed", pensioner_id=pensioner.pk,
        dedup_key=f"home-visit-confirmed:{visit.pk}",
        context={"name": pensioner.name, "visit_on": cn_date(visit_on),
                 "office_phone": office.counter_phone or "12333"},
    )
    audit_log(actor=staff, action="home_visit_schedule", pensioner=pensioner, visit_id=visit.pk,
              visit_on=visit_on.isoformat(), assignee_id=assignee.pk, request_id=request.pk if request else None)
    return visit


@transaction.atomic
def home_visit_record_outcome(
    *, visit: HomeVisit, staff: User, outcome: str, note: str = "", today: dt.date | None = None
) -> HomeVisit:
    """Record what happened; "certified in person" creates a home_visit certification."""
    today = today or rules.today_local()
    v = HomeVisit.objects.select_for_update().get(pk=visit.pk)
    if v.outcome != HomeVisit.Outcome.SCHEDULED:
        raise ActionError(_("该次上门已登记结果。"))
    if outcome not in (HomeVisit.Outcome.CERTIFIED, HomeVisit.Outcome.NOT_HOME, HomeVisit.Outcome.UNABLE):
        raise ActionError(_("请选择上门结果。"))
    if v.visit_on > today:
        raise ActionError(_("上门日期还没到，不能登记结果。"))
    if outcome == HomeVisit.Outcome.CERTIFIED:
        result = _certify(pensioner=v.pensioner, staff=staff, method="home_visit", occurred_on=v.visit_on,
                          today=today, note=note or "上门认证")
        v.certification = result.certification
    v.outcome, v.outcome_note, v.outcome_recorded_at = outcome, note[:200], timezone.now()
    v.save(update_fields=["outcome", "outcome_note", "outcome_recorded_at", "certification"])
    audit_log(actor=staff, action="home_visit_record_outcome", pensioner=v.pensioner, visit_id=v.pk,
              outcome=outcome)
    return v


def _certify(*, pensioner: Pensioner, staff: User, method: str, occurred_on: dt.date, today: dt.date,
             **extra: str) -> CertificationResult:
    _check_alive(pensioner)
    try:
        return certification_record(pensioner=pensioner, method=method, occurred_on=occurred_on, today=today,
                                    recorded_by=staff, source="staff", **extra)
    except ValueError as exc:
        raise ActionError(str(exc)) from None


@transaction.atomic
def counter_certify(*, pensioner: Pensioner, staff: User, occurred_on: dt.date, id_checked: bool,
                    note: str = "", today: dt.date | None = None) -> CertificationResult:
    """Counter certification: the staff member checked the ID card in person."""
    if not id_checked:
        raise ActionError(_("请先当面核验身份证原件。"))
    return _certify(pensioner=pensioner, staff=staff, method="counter", occurred_on=occurred_on,
                    today=today or rules.today_local(), note=(note or "窗口核验身份证")[:200])


@transaction.atomic
def video_certify(*, pensioner: Pensioner, staff: User, occurred_on: dt.date, relative_name: str,
                  relationship: str, note: str = "", today: dt.date | None = None) -> CertificationResult:
    """Video certification arranged through a named relative."""
    relative_name, relationship = relative_name.strip(), relationship.strip()
    if not relative_name or not relationship:
        raise ActionError(_("请填写协助视频的亲属姓名和关系。"))
    return _certify(pensioner=pensioner, staff=staff, method="video", occurred_on=occurred_on,
                    today=today or rules.today_local(), helper_relationship=relationship[:32],
                    note=f"视频认证，协助亲属：{relative_name}"[:200] + (f"；{note}" if note else "")[:100])


@transaction.atomic
def death_report(*, pensioner: Pensioner, staff: User, death_date: dt.date, evidence_ref: str, note: str = "",
                 today: dt.date | None = None) -> DeathReport:
    """Report a death. Nothing changes for the pensioner until a second person confirms."""
    today = today or rules.today_local()
    _check_alive(pensioner)
    if death_date > today:
        raise ActionError(_("死亡日期不能晚于今天。"))
    if not evidence_ref.strip():
        raise ActionError(_("请填写死亡证明文件编号。"))
    try:
        with transaction.atomic():
            report = DeathReport.objects.create(pensioner=pensioner, reported_by=staff, death_date=death_date,
                                                evidence_ref=evidence_ref.strip()[:64], note=note[:200])
    except IntegrityError:
        raise ActionError(_("该人员已有待复核的死亡报告。")) from None
    audit_log(actor=staff, action="death_report", pensioner=pensioner, report_id=report.pk,
              death_date=death_date.isoformat(), evidence_ref=report.evidence_ref)
    return report


@transaction.atomic
def death_confirm(*, report: DeathReport, staff: User, today: dt.date | None = None) -> DeathReport:
    """Second pair of eyes: another staff member of the office, or an administrator."""
    r = DeathReport.objects.select_for_update().select_related("pensioner").get(pk=report.pk)
    if r.state != DeathReport.State.PENDING:
        raise ActionError(_("该报告已处理。"))
    # The same two-person rule as a death revocation: the reporter gets a 403.
    second_person_check(recorded_by_id=r.reported_by_id, confirmer=staff, office_id=r.pensioner.street_office_id)
    pensioner_mark_deceased(pensioner=r.pensioner, death_date=r.death_date, today=today, source="staff_report",
                            evidence_ref=r.evidence_ref, actor=staff)
    r.state, r.confirmed_by, r.decided_at = DeathReport.State.CONFIRMED, staff, timezone.now()
    r.save(update_fields=["state", "confirmed_by", "decided_at"])
    audit_log(actor=staff, action="death_confirm", pensioner=r.pensioner, report_id=r.pk)
    return r


@transaction.atomic
def death_reject(*, report: DeathReport, staff: User, note: str = "") -> DeathReport:
    r = DeathReport.objects.select_for_update().get(pk=report.pk)
    if r.state != DeathReport.State.PENDING:
        raise ActionError(_("该报告已处理。"))
    r.state, r.confirmed_by, r.decided_at = DeathReport.State.REJECTED, staff, timezone.now()
    r.save(update_fields=["state", "confirmed_by", "decided_at"])
    audit_log(actor=staff, action="death_reject", pensioner=r.pensioner, report_id=r.pk, note=note[:200])
    return r


def pensioner_record_open(*, pensioner: Pensioner, staff: User, via: str = "page") -> None:
    """Opening the full record (unmasked ID and phone) is audit-logged: who, when, which record."""
    audit_log(actor=staff, action="pensioner_record_open", pensioner=pensioner, via=via)


@transaction.atomic
def home_visit_request_create(*, pensioner: Pensioner, requested_by: User, reason: str,
                              preferred_dates: Iterable[dt.date], contact_phone: str,
                              reason_note: str = "", today: dt.date | None = None) -> HomeVisitRequest:
    """预约上门认证 from outside: lands in the office queue as a pending request."""
    today = today or rules.today_local()
    _check_alive(pensioner)
    if reason not in VisitReason.values:
        raise ActionError(_("请选择申请上门的原因。"))
    dates = sorted({d for d in preferred_dates if d >= today})
    if not dates:
        raise ActionError(_("请至少选择一个今天以后的日期。"))
    phone = contact_phone.strip()
    if not (phone.isdigit() and 7 <= len(phone) <= 15):
        raise ActionError(_("请填写正确的联系电话。"))
    # A relative probing ID numbers through this form gets stopped after a few requests a day.
    since = timezone.now() - dt.timedelta(days=1)
    if HomeVisitRequest.objects.filter(requested_by=requested_by, created_at__gte=since).count() >= \
            REQUESTS_PER_DAY:
        raise ActionError(_("今天提交的预约已经很多了，请明天再试或拨打12333。"))
    try:
        with transaction.atomic():
            req = HomeVisitRequest.objects.create(
                pensioner=pensioner, requested_by=requested_by, reason=reason, reason_note=reason_note[:200],
                preferred_dates=[d.isoformat() for d in dates[:5]], contact_phone=phone)
    except IntegrityError:
        raise ActionError(_("您已经提交过预约，工作人员会尽快与您联系。")) from None
    audit_log(actor=requested_by, action="home_visit_request_create", pensioner=pensioner, request_id=req.pk,
              reason=reason)
    return req


EXPORT_HEADERS = ["姓名", "身份证号", "手机号", "年龄", "街道", "社区", "状态", "认证有效期至", "距暂停天数",
                  "已发提醒", "最近联系时间", "最近联系结果", "手机号无效", "暂停发放日期"]
# Column widths in Excel's character units, so nothing opens as ##### (issue 12).
EXPORT_WIDTHS = [10, 21, 14, 6, 14, 12, 9, 13, 11, 9, 17, 13, 10, 13]
STATUS_LABELS = {"warning": "提醒期", "suspended": "已暂停", "active": "正常", "deceased": "已死亡"}


def queue_export_xlsx(*, user: User, pensioners: Iterable[Pensioner], today: dt.date,
                      filters: dict[str, object]) -> bytes:
    """The current filtered queue as .xlsx (write-only workbook: constant memory)."""
    from openpyxl import Workbook

    unmask = user.has_perm("certification.unmask_pii")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("提醒名单")
    xlsx_layout(ws, EXPORT_WIDTHS)
    ws.append(EXPORT_HEADERS)
    count = 0
    batch: list[Pensioner] = []

    def flush() -> None:
        nonlocal count
        for r in queue_rows(batch, today=today):
            p = r.pensioner
            # Names and phones come from the roster: written as text, never as formulas (DESIGN §7).
            ws.append(xlsx_row(ws, [
                p.name,
                p.id_number if unmask else idnumber.mask(p.id_number),
                p.phone if unmask else idnumber.mask_phone(p.phone),
                r.age, p.street_office.name, p.community.name if p.community else "",
                STATUS_LABELS.get(p.status, p.status), p.valid_until,
                # Days to suspension only while it is ahead; a suspended person has the date instead.
                r.days_left if r.days_left > 0 else None, r.reminders_sent,
                timezone.localtime(r.last_contact_at).strftime("%Y-%m-%d %H:%M") if r.last_contact_at else "",
                r.last_outcome_label, "是" if p.phone_invalid else "",
                p.suspended_since if p.status == "suspended" else None,
            ]))
            count += 1
        batch.clear()

    for p in pensioners:
        batch.append(p)
        if len(batch) >= 1000:
            flush()
    flush()
    xlsx_filter(ws, columns=len(EXPORT_HEADERS), header_row=1, last_row=count + 1)
    buf = io.BytesIO()
    wb.save(buf)
    audit_log(actor=user, action="queue_export", rows=count, unmasked=unmask,
              filters={k: v for k, v in filters.items() if v not in (None, "", False)})
    return buf.getvalue()


# The uniform answer, worded like "certify someone else": a wrong ID, a wrong name, a deceased
# or a nonexistent person read alike, with or without a reference face (issue 13 item 6).
VISIT_TARGET_NOT_FOUND = "身份证号和姓名对不上，请核对后再试，或拨打 12333 请工作人员帮您预约。"


def visit_request_target_find(*, helper: User, id_number: str, name: str,
                              today: dt.date | None = None) -> Pensioner:
    """The pensioner a relative asks a home visit for, under the limits of "certify someone else":
    every look-up counts per helper and per ID number (certification.lookups, the proxy face check's
    own counters), found or not; at most FACE_PROXY_MAX_PENSIONERS distinct people in the window.
    Raises LookupLimited (over the hourly limits) or ActionError (the uniform answer, the people cap).
    """
    from django.conf import settings

    today = today or rules.today_local()
    lookup_count(helper_id=helper.pk, id_number=id_number)
    try:
        number = idnumber.parse(id_number).number
    except idnumber.InvalidIdNumber:
        raise ActionError(_(VISIT_TARGET_NOT_FOUND)) from None
    p = (Pensioner.objects.filter(id_number=number, name=(name or "").strip()).exclude(status=Status.DECEASED)
         .select_related("street_office").first())
    if p is None:
        raise ActionError(_(VISIT_TARGET_NOT_FOUND))
    since = rules.add_months(today, -settings.FACE_PROXY_WINDOW_MONTHS)
    people = set(helper.helped_certifications.filter(occurred_on__gt=since).values_list("pensioner_id", flat=True))
    people |= set(HomeVisitRequest.objects.filter(requested_by=helper, created_at__date__gt=since)
                  .values_list("pensioner_id", flat=True))
    if p.pk not in people and len(people) >= settings.FACE_PROXY_MAX_PENSIONERS:
        raise ActionError(_("每位亲属一年内最多为 %(n)s 位老人代办，您已达到上限。请拨打 12333 由工作人员登记。")
                          % {"n": settings.FACE_PROXY_MAX_PENSIONERS})
    return p
