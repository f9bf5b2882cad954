"""Writes to the domain core. Keyword-only, typed, atomic, audited (STYLE §4)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from . import idnumber, rules
from .effects import Effect, Source, as_date, effects_apply
from .models import (
    AuditLog,
    BackPay,
    Certification,
    Method,
    Overpayment,
    Pensioner,
    User,
)
from .rules import Status

__all__ = ["as_date"]  # re-exported: bigdata and dashboards read raw-cursor dates through it


def audit_log(*, actor: User | None, action: str, pensioner: Pensioner | None = None, **detail: object) -> AuditLog:
    return AuditLog.objects.create(actor=actor, action=action, pensioner=pensioner, detail=detail)


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
    """Accept a certification: extend validity (never shorten); the status follows (DESIGN §2).

    The effects (status change, back-pay for the months the new date covers, audit
    row) are written by certification.effects, with one row.
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
    actor = recorded_by or helper
    counts = effects_apply(today=today, rows=[Effect(
        pensioner_id=p.pk, valid_until=rules.extend(p.valid_until, occurred_on), reason=f"certified:{method}",
        actor_id=actor.pk if actor else None, action="certification_record",
        detail={"method": str(method), "occurred_on": occurred_on.isoformat(), "certification_id": cert.pk},
    )])
    p.refresh_from_db(fields=["valid_until", "status", "suspended_since"])
    back_pay = (BackPay.objects.filter(pensioner=p, restored_on=today).order_by("-id").first()
                if counts.back_pay_statements else None)
    return CertificationResult(cert, old_status, p.status, p.valid_until, back_pay)


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
    """Death evidence accepted: stop pay, open an overpayment case if paid past the death month,
    void big-data certifications dated after the death (certification.effects)."""
    today = today or rules.today_local()
    if death_date > today:
        raise ValueError("死亡日期不能晚于今天")
    p = Pensioner.objects.select_for_update().get(pk=pensioner.pk)
    if p.status != Status.DECEASED:
        effects_apply(today=today, rows=[Effect(
            pensioner_id=p.pk, death_date=death_date, reason=f"death:{source}"[:64],
            actor_id=actor.pk if actor else None, action="pensioner_mark_deceased",
            detail={"source": source, "evidence_ref": evidence_ref, "death_date": death_date.isoformat()},
        )])
    # This death's case: the newest (a person wrongly recorded dead before has older, cancelled ones).
    return Overpayment.objects.filter(pensioner=p).order_by("-id").first()


@dataclass(frozen=True)
class TransitionCounts:
    entered_warning: int
    suspended: int
    restored: int


_P = Pensioner._meta.db_table


def transitions_run(*, today: dt.date, pk_range: tuple[int, int] | None = None,
                    bucket_range: tuple[int, int] | None = None) -> TransitionCounts:
    """Move people active → warning → suspended, and back, through the one writer.

    Idempotent: each branch selects only rows whose stored status differs from what
    rules.status() says for `today` (thresholds from rules.py, plain comparisons on the
    indexed status + valid_until), so a second run the same day matches nothing.
    `pk_range` (pensioner ids) and `bucket_range` (idnumber.bucket_of() of the ID
    number: the matching chunk's partition) are each [lo, hi) and let several workers
    share one night's run.
    """
    params: dict[str, object] = {"t_today": today, "t_floor": rules.earliest_unsuspended_valid_until(today),
                                 "t_lo": pk_range[0] if pk_range else 0, "t_hi": pk_range[1] if pk_range else 1 << 62}
    scope = "AND id >= %(t_lo)s AND id < %(t_hi)s"
    if bucket_range is not None:
        bucket = idnumber.bucket_sql("id_number", connection.vendor)
        params.update(t_blo=bucket_range[0], t_bhi=bucket_range[1])
        scope += f" AND {bucket} >= %(t_blo)s AND {bucket} < %(t_bhi)s"
    branches = [
        # Back to active: valid_until was moved past today by some other write (a roster import).
        ("restored", "status IN ('warning', 'suspended') AND valid_until >= %(t_today)s"),
        # … or back inside the warning window: paid again.
        ("restored", "status = 'suspended' AND valid_until < %(t_today)s AND valid_until >= %(t_floor)s"),
        ("expired", "status = 'active' AND valid_until < %(t_today)s AND valid_until >= %(t_floor)s"),
        # Active people can skip warning when the job has not run for months.
        ("warning_ended", "status IN ('active', 'warning') AND valid_until < %(t_floor)s"),
    ]
    union = " UNION ALL ".join(
        f"SELECT id, valid_until, '{reason}' AS reason FROM {_P} WHERE {where} {scope}"  # noqa: S608 - identifiers from _meta, fixed fragments, values bound
        for reason, where in branches
    )
    counts = effects_apply(today=today, source=Source(
        columns={"pensioner_id": "t.id", "valid_until": "t.valid_until", "reason": "t.reason"},
        from_sql=f"({union}) t", params=params,
    ))
    return TransitionCounts(
        entered_warning=counts.moved(["active"], ["warning"]),
        suspended=counts.moved(None, ["suspended"]),
        restored=counts.moved(["warning", "suspended"], ["active"]) + counts.moved(["suspended"], ["warning"]),
    )


@transaction.atomic
def pensioner_set_phone_invalid(*, pensioner_id: int, invalid: bool = True, reason: str = "") -> None:
    """A permanent SMS failure or a staff report marks the phone invalid for the queue."""
    Pensioner.objects.filter(pk=pensioner_id).update(phone_invalid=invalid, updated_at=timezone.now())
    AuditLog.objects.create(action="phone_invalid" if invalid else "phone_valid", pensioner_id=pensioner_id,
                            detail={"reason": reason})
