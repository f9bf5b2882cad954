"""Writes of the case work: appeals, death records to verify, death revocations (DESIGN §1, §5).

Keyword-only, atomic, one audit row each (STYLE §4). Every change to a pensioner's
status or money (a confirmed death, a revoked one) goes through the single writer
in .effects; nothing here writes Pensioner, StatusChange, back-pay or overpayment
rows itself. Callers fetch cases through .selectors, so another office's case is a
404 before any of these run.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bigdata.models import DeathRecord, FraudAlert
from certification import idnumber
from certification import rules as core_rules
from certification.lookups import LookupLimited as SharedLookupLimited
from certification.lookups import lookup_count
from certification.models import Method, Pensioner, User
from certification.rules import Status
from certification.services import audit_log
from certification.two_person import second_person_check
from notifications.services import outbox_enqueue
from notifications.texts import cn_date

from . import deaths as effects
from .models import Appeal, Revocation
from .workdays import due_date

# Channels an appeal can be answered with "certified" (in person, so they restore pay).
ANSWER_CHANNELS = (Method.COUNTER, Method.VIDEO, Method.HOME_VISIT)


class CaseError(ValueError):
    """A refused step; the message is a plain Chinese sentence for the page or the API."""


class LookupLimited(CaseError):
    """Too many look-ups by ID number + name in the hour (HTTP 429)."""




def _office_phone(p: Pensioner) -> str:
    return p.street_office.counter_phone or "12333"


def _sms(p: Pensioner, *, template: str, key: str, **context: object) -> None:
    if p.phone:
        outbox_enqueue(phone=p.phone, template=template, pensioner_id=p.pk, dedup_key=key,
                       context={"name": p.name, "office_phone": _office_phone(p), **context})


# ---- appeals -----------------------------------------------------------------------

# The same uniform answer as "certify someone else": a wrong ID, a wrong name and a
# nonexistent person all read alike.
NOT_FOUND = _("身份证号和姓名对不上，请核对后再试，或拨打 12333 请工作人员帮您登记。")


def _count_lookup(helper: User, id_number: str) -> None:
    """In the proxy face check's own hourly counters (certification.lookups, H5b): an appeal, a
    home-visit request and a proxy check together allow no more guesses than one of them."""
    try:
        lookup_count(helper_id=helper.pk, id_number=id_number)
    except SharedLookupLimited:
        raise LookupLimited(_("尝试次数太多了，请过一个小时再试，或拨打 12333。")) from None


def appeal_target_find(*, helper: User, id_number: str, name: str, today: dt.date | None = None) -> Pensioner:
    """The pensioner a relative may file an appeal for, with the limits of "certify someone else".

    Every look-up counts (per helper and per ID number, the FACE_PROXY_*_PER_HOUR
    settings), found or not; one helper may act for at most FACE_PROXY_MAX_PENSIONERS
    distinct people in the window, the people they already helped included. Unlike the
    face check, a deceased person can be found: "I am alive" is the point.
    """
    today = today or core_rules.today_local()
    raw = (id_number or "").strip()
    name = (name or "").strip()
    _count_lookup(helper, raw)
    try:
        number = idnumber.parse(raw).number
    except idnumber.InvalidIdNumber:
        raise CaseError(NOT_FOUND) from None
    p = Pensioner.objects.filter(id_number=number, name=name).select_related("street_office").first()
    if p is None:
        raise CaseError(NOT_FOUND)
    since = core_rules.add_months(today, -settings.FACE_PROXY_WINDOW_MONTHS)
    people = set(p_id for p_id in helper.helped_certifications.filter(occurred_on__gt=since)
                 .values_list("pensioner_id", flat=True))
    people |= set(Appeal.objects.filter(filed_by=helper, via=Appeal.Via.RELATIVE, opened_on__gt=since)
                  .values_list("pensioner_id", flat=True))
    if p.pk not in people and len(people) >= settings.FACE_PROXY_MAX_PENSIONERS:
        raise CaseError(_("每位亲属一年内最多为 %(n)s 位老人代办，您已达到上限。请拨打 12333 由工作人员登记。")
                        % {"n": settings.FACE_PROXY_MAX_PENSIONERS})
    return p


@transaction.atomic
def appeal_file(*, pensioner: Pensioner, filed_by: User, via: str, kind: str, text: str = "",
                contact_phone: str = "", today: dt.date | None = None) -> Appeal:
    """File an appeal: an open case with its due date; the pensioner gets an SMS."""
    today = today or core_rules.today_local()
    if kind not in Appeal.Kind.values:
        raise CaseError(_("请选择您的情况。"))
    if via not in Appeal.Via.values:
        raise CaseError(_("提交方式不正确。"))
    text = " ".join((text or "").split())
    if kind == Appeal.Kind.OTHER and not text:
        raise CaseError(_("请简单写一下是什么问题。"))
    if len(text) > 300:
        raise CaseError(_("说明请不要超过 300 个字。"))
    phone = (contact_phone or "").strip()
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 15):
        raise CaseError(_("请填写正确的联系电话。"))
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(
                pensioner=pensioner, kind=kind, text=text, via=via, filed_by=filed_by, contact_phone=phone,
                opened_on=today, due_on=due_date(today))
    except IntegrityError:
        open_one = Appeal.objects.filter(pensioner=pensioner, state=Appeal.State.OPEN).first()
        due = cn_date(open_one.due_on) if open_one else ""
        raise CaseError(_("已经有一份异议在处理中，街道会在 %(d)s 前答复。") % {"d": due}) from None
    _sms(pensioner, template="appeal_filed", key=f"appeal-filed:{appeal.pk}", due_on=cn_date(appeal.due_on))
    audit_log(actor=filed_by, action="appeal_file", pensioner=pensioner, appeal_id=appeal.pk, kind=kind, via=via,
              due_on=appeal.due_on.isoformat())
    return appeal


@transaction.atomic
def appeal_answer(*, appeal: Appeal, staff: User, outcome: str, note: str, channel: str = "",
                  occurred_on: dt.date | None = None, today: dt.date | None = None) -> Appeal:
    """Resolve an appeal with an outcome and a note; "certified" records the named channel's certification."""
    today = today or core_rules.today_local()
    a = Appeal.objects.select_for_update().select_related("pensioner__street_office").get(pk=appeal.pk)
    if a.state != Appeal.State.OPEN:
        raise CaseError(_("该异议已经答复过了。"))
    if outcome not in Appeal.Outcome.values:
        raise CaseError(_("请选择处理结果。"))
    note = " ".join((note or "").split())
    if not note:
        raise CaseError(_("请填写给本人的答复。"))
    p = a.pensioner
    if outcome == Appeal.Outcome.CERTIFIED:
        if channel not in ANSWER_CHANNELS:
            raise CaseError(_("请选择认证方式（窗口、视频或上门）。"))
        if p.status == Status.DECEASED:
            raise CaseError(_("该人员已登记死亡：请先登记撤销死亡（需另一人确认），再登记认证。"))
        try:
            effects.certify(pensioner=p, method=channel, occurred_on=occurred_on or today, today=today,
                            recorded_by=staff, note=_("异议处理：%(n)s") % {"n": note[:80]})
        except ValueError as exc:
            raise CaseError(str(exc)) from None
    else:
        channel = ""
    a.state, a.outcome, a.channel, a.answer = Appeal.State.ANSWERED, outcome, channel, note[:300]
    a.answered_by, a.answered_at = staff, timezone.now()
    a.save(update_fields=["state", "outcome", "channel", "answer", "answered_by", "answered_at"])
    _sms(p, template="appeal_answered", key=f"appeal-answered:{a.pk}", outcome=a.get_outcome_display(),
         answer=a.answer[:120])
    audit_log(actor=staff, action="appeal_answer", pensioner=p, appeal_id=a.pk, outcome=outcome, channel=channel,
              note=a.answer)
    return a


# ---- death records to verify, and conflicts -----------------------------------------

def _open_record(record: DeathRecord) -> DeathRecord:
    r = DeathRecord.objects.select_for_update().select_related("pensioner").get(pk=record.pk)
    if r.state not in DeathRecord.OPEN_STATES:
        raise CaseError(_("该死亡记录已经处理过了。"))
    return r


@transaction.atomic
def death_record_confirm(*, record: DeathRecord, staff: User, note: str = "",
                         today: dt.date | None = None) -> DeathRecord:
    """Staff confirm a death record: deceased from the recorded date, overpayment from the ledger."""
    today = today or core_rules.today_local()
    r = _open_record(record)
    if r.death_date > today:
        raise CaseError(_("死亡日期不能晚于今天。"))
    old_state = r.state
    effects.mark_deceased(pensioner=r.pensioner, death_date=r.death_date, today=today,
                          reason=f"death:{r.source}:{old_state}", actor=staff)
    r.state, r.decided_by, r.decided_at, r.decision_note = (
        DeathRecord.State.CONFIRMED, staff, timezone.now(), " ".join(note.split())[:300])
    r.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    audit_log(actor=staff, action="death_record_confirm", pensioner=r.pensioner, record_id=r.pk,
              was=old_state, death_date=r.death_date.isoformat(), source=r.source)
    return r


@transaction.atomic
def death_record_reject(*, record: DeathRecord, staff: User, reason: str) -> DeathRecord:
    """Staff reject a death record: nothing changes for the pensioner; the reason is kept."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise CaseError(_("请填写驳回原因（例如：本人已到窗口当面核实）。"))
    r = _open_record(record)
    old_state = r.state
    r.state, r.decided_by, r.decided_at, r.decision_note = (
        DeathRecord.State.REJECTED, staff, timezone.now(), reason[:300])
    r.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    audit_log(actor=staff, action="death_record_reject", pensioner=r.pensioner, record_id=r.pk, was=old_state,
              reason=r.decision_note)
    return r


# ---- revoking a wrong death (two people) ---------------------------------------------

@transaction.atomic
def revocation_record(*, pensioner: Pensioner, staff: User, reason: str, appeal: Appeal | None = None,
                      today: dt.date | None = None) -> Revocation:
    """The first person records a revocation with a reason; nothing changes until a second confirms."""
    today = today or core_rules.today_local()
    reason = " ".join((reason or "").split())
    if not reason:
        raise CaseError(_("请填写撤销原因（例如：身份证号录入错误，本人已到窗口核实）。"))
    p = Pensioner.objects.select_for_update().get(pk=pensioner.pk)
    if p.status != Status.DECEASED or p.death_date is None:
        raise CaseError(_("该人员没有死亡登记，无需撤销。"))
    record = (DeathRecord.objects.filter(pensioner=p, state=DeathRecord.State.CONFIRMED)
              .order_by("-death_date", "-id").first())
    try:
        with transaction.atomic():
            rev = Revocation.objects.create(
                pensioner=p, death_record=record, death_date=p.death_date, reason=reason[:300], appeal=appeal,
                recorded_by=staff, opened_on=today, due_on=due_date(today))
    except IntegrityError:
        raise CaseError(_("该人员已有一份待确认的撤销登记。")) from None
    audit_log(actor=staff, action="revocation_record", pensioner=p, revocation_id=rev.pk,
              death_date=p.death_date.isoformat(), reason=rev.reason)
    return rev


def _pending(revocation: Revocation) -> Revocation:
    r = Revocation.objects.select_for_update().select_related("pensioner__street_office").get(pk=revocation.pk)
    if r.state != Revocation.State.PENDING:
        raise CaseError(_("该撤销登记已经处理过了。"))
    return r


@transaction.atomic
def revocation_confirm(*, revocation: Revocation, user: User, note: str = "",
                       today: dt.date | None = None) -> Revocation:
    """The second person carries the revocation out (the recorder gets SecondPersonRequired: 403).

    The writer brings the person back: voided certifications restored, validity and
    status from them again, back-pay for the months not paid since the death, the
    overpayment case cancelled, and anything already recovered set to be paid back by the
    next roster that closes (certification.ledger). Here: the death record marked revoked,
    the fraud alerts it caused closed with the reason, an SMS.
    """
    today = today or core_rules.today_local()
    r = _pending(revocation)
    second_person_check(recorded_by_id=r.recorded_by_id, confirmer=user, office_id=r.pensioner.street_office_id)
    reason = _("撤销死亡登记：%(r)s") % {"r": r.reason}
    result = effects.revive(pensioner=r.pensioner, death_date=r.death_date, today=today, actor=user,
                            reason=f"revocation:{r.pk}")
    DeathRecord.objects.filter(pensioner=r.pensioner, state=DeathRecord.State.CONFIRMED).update(
        state=DeathRecord.State.REVOKED, decision_note=reason[:300], decided_by=user, decided_at=timezone.now())
    closed = FraudAlert.objects.filter(pensioner=r.pensioner, state=FraudAlert.State.OPEN,
                                       death_date=r.death_date).update(
        state=FraudAlert.State.CLOSED, closed_reason=reason[:300], closed_at=timezone.now())
    result["fraud_alerts_closed"] = closed
    r.state, r.confirmed_by, r.decided_at = Revocation.State.CONFIRMED, user, timezone.now()
    r.decision_note, r.result = " ".join(note.split())[:300], result
    r.save(update_fields=["state", "confirmed_by", "decided_at", "decision_note", "result"])
    p = Pensioner.objects.select_related("street_office").get(pk=r.pensioner_id)
    # What comes to them with the next payment: the months back-paid and any recovered amount paid back.
    coming = Decimal(result["back_pay_total"]) + Decimal(result["recovered_refund"])
    _sms(p, template="death_revoked", key=f"death-revoked:{r.pk}", back_pay=f"{coming:.2f}")
    audit_log(actor=user, action="revocation_confirm", pensioner=p, revocation_id=r.pk,
              recorded_by_id=r.recorded_by_id, **result)
    return r


@transaction.atomic
def revocation_refuse(*, revocation: Revocation, user: User, note: str) -> Revocation:
    """The second person refuses it: the death stands, the reason is kept."""
    note = " ".join((note or "").split())
    if not note:
        raise CaseError(_("请填写不同意撤销的原因。"))
    r = _pending(revocation)
    second_person_check(recorded_by_id=r.recorded_by_id, confirmer=user, office_id=r.pensioner.street_office_id)
    r.state, r.confirmed_by, r.decided_at, r.decision_note = Revocation.State.REFUSED, user, timezone.now(), note[:300]
    r.save(update_fields=["state", "confirmed_by", "decided_at", "decision_note"])
    audit_log(actor=user, action="revocation_refuse", pensioner=r.pensioner, revocation_id=r.pk, note=r.decision_note)
    return r
