"""Writes to the domain core. Keyword-only, typed, atomic, audited (STYLE §4)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from . import rules
from .models import (
    AuditLog,
    BackPay,
    BackPayLine,
    Certification,
    Method,
    Overpayment,
    Pensioner,
    StatusChange,
    User,
)
from .rules import Status


def audit_log(*, actor: User | None, action: str, pensioner: Pensioner | None = None, **detail: object) -> AuditLog:
    return AuditLog.objects.create(actor=actor, action=action, pensioner=pensioner, detail=detail)


def _status_change(pensioner: Pensioner, *, old: str, new: str, on: dt.date, reason: str) -> StatusChange:
    return StatusChange.objects.create(
        pensioner=pensioner, old_status=old, new_status=new, effective_on=on, reason=reason,
        valid_until=pensioner.valid_until,
    )


def back_pay_create(*, pensioner: Pensioner, suspended_since: dt.date, restored_on: dt.date) -> BackPay | None:
    """Itemised back-pay for the months a suspension withheld. Idempotent per suspension."""
    months = rules.missed_months(suspended_since, restored_on)
    lines = rules.back_pay(months, pensioner.monthly_amount)
    back_pay, created = BackPay.objects.get_or_create(
        pensioner=pensioner,
        suspended_since=suspended_since,
        defaults={"restored_on": restored_on, "total": sum((a for _, a in lines), Decimal("0"))},
    )
    if created:
        BackPayLine.objects.bulk_create([BackPayLine(back_pay=back_pay, pensioner=pensioner, month=m, amount=a) for m, a in lines])
    return back_pay


@dataclass(frozen=True)
class CertificationResult:
    certification: Certification
    old_status: str
    new_status: str
    valid_until: dt.date
    back_pay: BackPay | None


@transaction.atomic
def certification_record(
    *,
    pensioner: Pensioner,
    method: Method | str,
    occurred_on: dt.date,
    today: dt.date | None = None,
    recorded_by: User | None = None,
    helper: User | None = None,
    helper_relationship: str = "",
    source: str = "",
    evidence_ref: str = "",
    note: str = "",
) -> CertificationResult:
    """Accept a certification: extend validity (never shorten) and restore `active`.

    A suspended person gets an itemised back-pay statement for the missed months.
    """
    today = today or rules.today_local()
    if occurred_on > today:
        raise ValueError("认证日期不能晚于今天")
    # Lock the row: a face check and the nightly job may touch the same person.
    p = Pensioner.objects.select_for_update().get(pk=pensioner.pk)
    if p.status == Status.DECEASED:
        raise ValueError("该人员已登记死亡，不能认证")
    cert = Certification.objects.create(
        pensioner=p, method=method, occurred_on=occurred_on, recorded_by=recorded_by, helper=helper,
        helper_relationship=helper_relationship, source=source, evidence_ref=evidence_ref, note=note,
    )
    old_status = p.status
    p.valid_until = rules.extend(p.valid_until, occurred_on)
    new_status = rules.status(p.valid_until, today)
    back_pay = None
    if old_status == Status.SUSPENDED and new_status != Status.SUSPENDED and p.suspended_since:
        back_pay = back_pay_create(pensioner=p, suspended_since=p.suspended_since, restored_on=today)
        p.suspended_since = None
    p.status = new_status
    p.save(update_fields=["valid_until", "status", "suspended_since", "updated_at"])
    if old_status != new_status:
        _status_change(p, old=old_status, new=new_status, on=today, reason=f"certified:{method}")
    audit_log(
        actor=recorded_by or helper, action="certification_record", pensioner=p,
        method=str(method), occurred_on=occurred_on.isoformat(), valid_until=p.valid_until.isoformat(),
    )
    return CertificationResult(cert, old_status, new_status, p.valid_until, back_pay)


@transaction.atomic
def pensioner_mark_deceased(
    *,
    pensioner: Pensioner,
    death_date: dt.date,
    today: dt.date | None = None,
    source: str,
    evidence_ref: str = "",
    actor: User | None = None,
) -> Overpayment | None:
    """Death evidence accepted: stop pay, and open an overpayment case if paid past the death month."""
    today = today or rules.today_local()
    if death_date > today:
        raise ValueError("死亡日期不能晚于今天")
    p = Pensioner.objects.select_for_update().get(pk=pensioner.pk)
    if p.status == Status.DECEASED:
        return Overpayment.objects.filter(pensioner=p).first()
    months = rules.overpaid_months(death_date, today, p.suspended_since)
    old_status = p.status
    p.status = Status.DECEASED
    p.death_date = death_date
    p.save(update_fields=["status", "death_date", "updated_at"])
    _status_change(p, old=old_status, new=Status.DECEASED, on=today, reason=f"death:{source}")
    overpayment = None
    if months:
        overpayment, _ = Overpayment.objects.get_or_create(
            pensioner=p,
            defaults={
                "death_date": death_date,
                "months": [m.isoformat() for m in months],
                "total": p.monthly_amount * len(months),
                "opened_on": today,
            },
        )
    audit_log(actor=actor, action="pensioner_mark_deceased", pensioner=p, death_date=death_date.isoformat(),
              source=source, evidence_ref=evidence_ref)
    return overpayment


@dataclass(frozen=True)
class TransitionCounts:
    entered_warning: int
    suspended: int
    restored: int


_P = Pensioner._meta.db_table
_SC = StatusChange._meta.db_table
_BP = BackPay._meta.db_table
_BPL = BackPayLine._meta.db_table


def _scope(pk_range: tuple[int, int] | None) -> tuple[str, list[object]]:
    if pk_range is None:
        return "", []
    return " AND id >= %s AND id < %s", [pk_range[0], pk_range[1]]


def transitions_run(*, today: dt.date, pk_range: tuple[int, int] | None = None) -> TransitionCounts:
    """Move people active → warning → suspended, and back, in a few set-based statements.

    Idempotent: each statement selects only rows whose stored status differs from
    what rules.status() says for `today`, so a second run the same day matches
    nothing. SQL gets its thresholds from rules.py and only compares the indexed
    valid_until column, so the rule has one home. `pk_range` (lo inclusive, hi
    exclusive) lets several workers share one night's run.
    """
    warn_floor = rules.earliest_unsuspended_valid_until(today)
    scope_sql, scope_params = _scope(pk_range)
    with transaction.atomic():
        # Back to active: valid_until was moved past today by a certification.
        restored = restore_where(
            f"status IN ('warning', 'suspended') AND valid_until >= %s{scope_sql}",
            [today, *scope_params], today=today, new_status=Status.ACTIVE,
        )
        # Late evidence can move a suspended person back into the warning window: paid again.
        restored += restore_where(
            f"status = 'suspended' AND valid_until < %s AND valid_until >= %s{scope_sql}",
            [today, warn_floor, *scope_params], today=today, new_status=Status.WARNING,
        )
        entered_warning = _set_status_where(
            f"status = 'active' AND valid_until < %s AND valid_until >= %s{scope_sql}",
            [today, warn_floor, *scope_params], today=today, new_status=Status.WARNING, reason="expired",
        )
        # Active people can skip warning when the job has not run for months.
        suspended = _suspend_where(
            f"status IN ('active', 'warning') AND valid_until < %s{scope_sql}",
            [warn_floor, *scope_params], today=today,
        )
    return TransitionCounts(entered_warning=entered_warning, suspended=suspended, restored=restored)


def _set_status_where(where: str, params: list[object], *, today: dt.date, new_status: Status, reason: str,
                      extra_set: str = "", extra_params: list[object] | None = None) -> int:
    now = timezone.now()
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {_SC} (pensioner_id, old_status, new_status, effective_on, reason, valid_until, created_at) "  # noqa: S608 - identifiers from _meta, values bound
            f"SELECT id, status, %s, %s, %s, valid_until, %s FROM {_P} WHERE {where}",
            [str(new_status), today, reason, now, *params],
        )
        cur.execute(
            f"UPDATE {_P} SET status = %s, updated_at = %s{extra_set} WHERE {where}",  # noqa: S608 - identifiers from _meta, values bound
            [str(new_status), now, *(extra_params or []), *params],
        )
        return cur.rowcount


def _suspend_where(where: str, params: list[object], *, today: dt.date) -> int:
    # suspended_since is the day after the warning window ends, whenever the job
    # notices it; one UPDATE per distinct valid_until (one a night in steady state).
    with connection.cursor() as cur:
        cur.execute(f"SELECT DISTINCT valid_until FROM {_P} WHERE {where}", params)  # noqa: S608 - identifiers from _meta, values bound
        dates = [as_date(r[0]) for r in cur.fetchall()]
    count = 0
    for vu in dates:
        count += _set_status_where(
            f"{where} AND valid_until = %s", [*params, vu], today=today, new_status=Status.SUSPENDED,
            reason="warning_ended", extra_set=", suspended_since = %s", extra_params=[rules.suspension_date(vu)],
        )
    return count


@transaction.atomic
def restore_where(where: str, params: list[object], *, today: dt.date, new_status: Status = Status.ACTIVE,
                  reason: str = "restored") -> int:
    """Restore the pensioners matched by `where`, with itemised back-pay for the suspended.

    Set-based: one INSERT … SELECT per distinct suspended_since (a handful a night),
    the months computed by rules.missed_months().
    """
    now = timezone.now()
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT DISTINCT suspended_since FROM {_P} WHERE {where} AND status = 'suspended' "  # noqa: S608 - identifiers from _meta, values bound
            f"AND suspended_since IS NOT NULL",
            params,
        )
        for (since_raw,) in cur.fetchall():
            since = as_date(since_raw)
            months = rules.missed_months(since, today)
            sub = f"{where} AND status = 'suspended' AND suspended_since = %s"
            cur.execute(
                f"INSERT INTO {_BP} (pensioner_id, suspended_since, restored_on, total, created_at) "  # noqa: S608 - identifiers from _meta, values bound
                f"SELECT id, suspended_since, %s, monthly_amount * %s, %s FROM {_P} p WHERE {sub} "
                f"AND NOT EXISTS (SELECT 1 FROM {_BP} b WHERE b.pensioner_id = p.id AND b.suspended_since = p.suspended_since)",
                [today, len(months), now, *params, since],
            )
            for month in months:
                cur.execute(
                    f"INSERT INTO {_BPL} (back_pay_id, pensioner_id, month, amount) "  # noqa: S608 - identifiers from _meta, values bound
                    f"SELECT b.id, p.id, %s, p.monthly_amount FROM {_BP} b JOIN {_P} p ON p.id = b.pensioner_id "
                    f"WHERE b.suspended_since = %s AND b.restored_on = %s AND p.id IN (SELECT id FROM {_P} WHERE {sub}) "
                    f"AND NOT EXISTS (SELECT 1 FROM {_BPL} l WHERE l.back_pay_id = b.id AND l.month = %s)",
                    [month, since, today, *params, since, month],
                )
    return _set_status_where(
        where, params, today=today, new_status=new_status, reason=reason,
        extra_set=", suspended_since = NULL",
    )


def as_date(value: object) -> dt.date:
    # SQLite hands dates back as text from raw cursors.
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


@transaction.atomic
def pensioner_set_phone_invalid(*, pensioner_id: int, invalid: bool = True, reason: str = "") -> None:
    """A permanent SMS failure or a staff report marks the phone invalid for the queue."""
    Pensioner.objects.filter(pk=pensioner_id).update(phone_invalid=invalid, updated_at=timezone.now())
    AuditLog.objects.create(action="phone_invalid" if invalid else "phone_valid", pensioner_id=pensioner_id,
                            detail={"reason": reason})
