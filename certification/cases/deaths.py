"""The pensioner effects of case work, handed to the single writer (certification.effects, issue 9).

Nothing in the cases app writes a pensioner's status, validity, back-pay or
overpayment itself: these three calls are the only way it changes money.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from bigdata.models import FraudAlert
from certification import rules
from certification.effects import Effect, effects_apply, revived_certifications_restore
from certification.models import (
    BackPay,
    BackPayLine,
    Certification,
    Overpayment,
    Pensioner,
    StatusChange,
    User,
)
from certification.services import certification_record, pensioner_mark_deceased


def certify(*, pensioner: Pensioner, method: str, occurred_on: dt.date, today: dt.date, recorded_by: User,
            note: str) -> None:
    certification_record(pensioner=pensioner, method=method, occurred_on=occurred_on, today=today,
                         recorded_by=recorded_by, source="staff", note=note[:200])


def mark_deceased(*, pensioner: Pensioner, death_date: dt.date, today: dt.date, reason: str, actor: User) -> None:
    pensioner_mark_deceased(pensioner=pensioner, death_date=death_date, today=today, source=reason, actor=actor)


def _unpaid_since(p: Pensioner, today: dt.date) -> dt.date:
    """The first month the payment system did not pay because of the death (before the ledger).

    The rule paid every month whose 1st the person was not yet deceased: up to and
    including the month the death was recorded (those are the overpayment's months).
    A person already suspended when the death arrived was unpaid from the suspension.
    """
    change = (StatusChange.objects.filter(pensioner=p, new_status="deceased")
              .order_by("-effective_on", "-id").first())
    recorded_on = change.effective_on if change else today
    since = rules.next_month_start(recorded_on)
    if change and change.old_status == "suspended" and change.valid_until:
        since = min(since, rules.month_start(rules.suspension_date(change.valid_until)))
    return since


def revive(*, pensioner: Pensioner, death_date: dt.date, today: dt.date, actor: User, reason: str) -> dict[str, Any]:
    """A revoked death, through the writer: the person's validity and status from their own
    records again, back-pay for the months not paid since the death, the overpayment cancelled
    and an amount already recovered set to be paid back by the next roster.

    The validity is what the standing certifications give: the ones the death voided are
    restored (certification.effects.revived_certifications_restore), and the qualifying
    records dated after the death (held as fraud alerts, never certified) count as
    ordinary evidence again.
    """
    p = Pensioner.objects.select_for_update().get(pk=pensioner.pk)
    unpaid_since = _unpaid_since(p, today)
    restored = revived_certifications_restore(pensioner_id=p.pk)
    alerts = [a for a in FraudAlert.objects.filter(pensioner=p, death_date=death_date) if a.event_date <= today]
    Certification.objects.bulk_create([
        Certification(pensioner=p, method="big_data", occurred_on=a.event_date, source=a.source,
                      evidence_ref=a.source_ref, note="撤销死亡登记后恢复")
        for a in alerts
    ], ignore_conflicts=True)
    valid_until = p.roster_valid_until or p.valid_until
    for d in Certification.objects.filter(pensioner=p, voided_at__isnull=True, occurred_on__lte=today).values_list(
            "occurred_on", flat=True):
        valid_until = rules.extend(valid_until, d)
    valid_until = max(valid_until, p.valid_until)
    overpaid = Overpayment.objects.filter(pensioner=p, state=Overpayment.State.OPEN).aggregate(
        t=Sum("total"))["t"] or Decimal("0")
    # Refunds already waiting from an earlier revocation are not this one's (its SMS names only its own).
    waiting = list(Overpayment.objects.filter(pensioner=p, refund__gt=0, refunded_in__isnull=True)
                   .values_list("pk", flat=True))
    last_statement = BackPay.objects.filter(pensioner=p).order_by("-id").values_list("id", flat=True).first() or 0
    counts = effects_apply(today=today, rows=[Effect(
        pensioner_id=p.pk, reason=reason[:64], valid_until=valid_until, exact=True, revive=True,
        unpaid_since=unpaid_since, actor_id=actor.pk, action="death_revoke",
        detail={"death_date": death_date.isoformat(), "unpaid_since": unpaid_since.isoformat(),
                "certifications_restored": restored, "post_death_records": len(alerts)},
    )])
    lines = BackPayLine.objects.filter(pensioner_id=p.pk, back_pay_id__gt=last_statement)
    # What the writer set to pay back: an overpayment already recovered (the next roster pays it).
    refund = Overpayment.objects.filter(pensioner=p, refund__gt=0, refunded_in__isnull=True).exclude(
        pk__in=waiting).aggregate(
        t=Sum("refund"))["t"] or Decimal("0")
    p.refresh_from_db()
    return {
        "status": p.status, "valid_until": p.valid_until.isoformat(), "unpaid_since": unpaid_since.isoformat(),
        "back_pay_months": lines.count(),
        "back_pay_total": f"{lines.aggregate(t=Sum('amount'))['t'] or Decimal('0'):.2f}",
        "overpayment_cancelled": f"{overpaid if counts.overpayments_cancelled else Decimal('0'):.2f}",
        # Paid back with the next roster that closes (certification.ledger, a `refund` row).
        "recovered_refund": f"{refund if counts.refunds else Decimal('0'):.2f}",
        "certifications_restored": restored,
    }
