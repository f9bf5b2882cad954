"""The payment ledger (DESIGN §2, §4): closing a month's roster records what is paid.

`roster_close(month=M)` runs once per month, the first time export_payment_roster is
asked for M, in a fixed number of set-based statements:

1. `back_pay`: every back-pay line still waiting (BackPayLine.paid_in empty), for a
   person alive on that month's 1st, becomes a ledger row for its own month, paid in
   M's roster; the line is marked paid in M, and a statement all of whose lines are
   paid gets BackPay.paid_on.
2. `pay`: everyone alive on M's 1st whom the rule pays for M (rules.paid_on_first, as
   `valid_until >= earliest_unsuspended_valid_until(M)`), unless the ledger already
   pays them M (a back-pay row of step 1).
3. `suspended`: everyone alive on M's 1st whom the rule does not pay for M.
4. `overpayment`: every open overpayment case opened before the end of M.

Between 1 and 2, `refund`: every overpayment case already recovered whose death was
revoked (Overpayment.refund, set by the writer) is paid back in M, once per case: the row
names its case (LedgerEntry.overpayment, unique), and Overpayment.refunded_in becomes M.
A person wrongly recorded dead twice has two cases and is paid back twice, in the same
roster or in two. The JSON counts refunds among M's back-pay lines and amount.

`pay` and `back_pay` rows are unique per (pensioner, month): no month is ever paid
twice to one person, whatever is re-run. A closed month is never reopened: the next
export of M replays its rows (certification.dashboards.roster), and back-pay that
arises later waits for the next month that closes. The close holds the writer's
ledger lock alone, so no effect computes back-pay against a half-closed month.
"""

# SQL below is built from table names in Model._meta and fixed fragments; every value is a bound parameter.

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Sum

from . import rules
from .effects import ledger_lock
from .models import (
    AuditLog,
    BackPay,
    BackPayLine,
    LedgerEntry,
    Overpayment,
    Pensioner,
    RosterMonth,
    User,
)

_P = Pensioner._meta.db_table
_L = LedgerEntry._meta.db_table
_BP = BackPay._meta.db_table
_BPL = BackPayLine._meta.db_table
_O = Overpayment._meta.db_table


@dataclass(frozen=True)
class RosterClose:
    month: dt.date
    closed_now: bool
    counts: dict[str, Any]


def _x(sql: str, params: dict[str, Any]) -> int:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


def ledger_summary(month: dt.date) -> dict[str, Any]:
    """Counts and amounts of the rows recorded for roster month `month`."""
    out: dict[str, Any] = {k: 0 for k in ("paid", "back_pay_lines", "suspended", "overpayments")}
    out.update(paid_amount="0.00", back_pay_amount="0.00")
    # A refund is a back-pay line of the roster (DESIGN §4 keeps the JSON's keys).
    keys = {"pay": ("paid", "paid_amount"), "back_pay": ("back_pay_lines", "back_pay_amount"),
            "refund": ("back_pay_lines", "back_pay_amount"),
            "suspended": ("suspended", None), "overpayment": ("overpayments", None)}
    amounts: dict[str, Decimal] = {}
    for row in LedgerEntry.objects.filter(roster_month=month).values("kind").annotate(n=Count("id"), s=Sum("amount")):
        count_key, amount_key = keys[row["kind"]]
        out[count_key] += row["n"]
        if amount_key:
            amounts[amount_key] = amounts.get(amount_key, Decimal(0)) + Decimal(row["s"] or 0)
    out.update({k: f"{v:.2f}" for k, v in amounts.items()})
    return out


@transaction.atomic
def roster_close(*, month: dt.date, today: dt.date | None = None, actor: User | None = None) -> RosterClose:
    """Close month `month`'s roster in the ledger, or say it was closed already (then nothing is written)."""
    today = today or rules.today_local()
    month = rules.month_start(month)
    ledger_lock(exclusive=True)
    try:
        with transaction.atomic():
            closing = RosterMonth.objects.create(month=month, closed_on=today)
    except IntegrityError:
        return RosterClose(month=month, closed_now=False, counts=ledger_summary(month))
    p = {"m": month, "today": today, "floor": rules.earliest_unsuspended_valid_until(month)}
    alive = "(p.death_date IS NULL OR p.death_date >= %(m)s)"
    # 1. Back-pay waiting for a roster: paid now, each line for its own month.
    _x(
        f"INSERT INTO {_L} (roster_month, pensioner_id, kind, month, amount, note) "  # noqa: S608 - identifiers from _meta, values bound
        f"SELECT %(m)s, l.pensioner_id, 'back_pay', l.month, l.amount, "
        f"CAST(b.restored_on AS text) || ' 恢复发放' FROM {_BPL} l "
        f"JOIN {_BP} b ON b.id = l.back_pay_id JOIN {_P} p ON p.id = l.pensioner_id "
        f"WHERE l.paid_in IS NULL AND (p.death_date IS NULL OR p.death_date >= l.month) "
        f"AND NOT EXISTS (SELECT 1 FROM {_L} x WHERE x.pensioner_id = l.pensioner_id AND x.month = l.month "
        f"AND x.kind IN ('pay', 'back_pay')) ORDER BY l.pensioner_id, l.month",
        p,
    )
    _x(
        f"UPDATE {_BPL} SET paid_in = %(m)s WHERE paid_in IS NULL AND EXISTS (SELECT 1 FROM {_L} x "  # noqa: S608 - identifiers from _meta, values bound
        f"WHERE x.roster_month = %(m)s AND x.kind = 'back_pay' AND x.pensioner_id = {_BPL}.pensioner_id "
        f"AND x.month = {_BPL}.month)",
        p,
    )
    _x(
        f"UPDATE {_BP} SET paid_on = %(today)s WHERE paid_on IS NULL "  # noqa: S608 - identifiers from _meta, values bound
        f"AND EXISTS (SELECT 1 FROM {_BPL} l WHERE l.back_pay_id = {_BP}.id AND l.paid_in = %(m)s) "
        f"AND NOT EXISTS (SELECT 1 FROM {_BPL} l WHERE l.back_pay_id = {_BP}.id AND l.paid_in IS NULL)",
        p,
    )
    # 1b. Recovered overpayments of a revoked death: each case paid back once, in the first
    # roster that closes after its cancellation (a back-pay line of its own kind). The row
    # names its case; the unique index on it and refunded_in make a second payment of a case
    # impossible, and a replay of M writes this row again. Keyed on the case, not the person:
    # a person with two revoked deaths is paid back both.
    _x(
        f"INSERT INTO {_L} (roster_month, pensioner_id, kind, month, amount, note, overpayment_id) "  # noqa: S608 - identifiers from _meta, values bound
        f"SELECT %(m)s, o.pensioner_id, 'refund', %(m)s, o.refund, "
        f"'退还已追回的多发款（死亡登记已撤销，死亡日期 ' || CAST(o.death_date AS text) || '，多发案件 ' "
        f"|| CAST(o.id AS text) || '）', o.id FROM {_O} o "
        f"WHERE o.refund > 0 AND o.refunded_in IS NULL AND NOT EXISTS (SELECT 1 FROM {_L} x "
        f"WHERE x.overpayment_id = o.id) ORDER BY o.pensioner_id, o.id",
        p,
    )
    _x(
        f"UPDATE {_O} SET refunded_in = %(m)s WHERE refund > 0 AND refunded_in IS NULL AND EXISTS ("  # noqa: S608 - identifiers from _meta, values bound
        f"SELECT 1 FROM {_L} x WHERE x.overpayment_id = {_O}.id AND x.roster_month = %(m)s)",
        p,
    )
    # 2. The month itself, by the rule on its 1st; 3. those it withholds.
    _x(
        f"INSERT INTO {_L} (roster_month, pensioner_id, kind, month, amount, note) "  # noqa: S608 - identifiers from _meta, values bound
        f"SELECT %(m)s, p.id, 'pay', %(m)s, p.monthly_amount, '' FROM {_P} p "
        f"WHERE {alive} AND p.valid_until >= %(floor)s AND NOT EXISTS (SELECT 1 FROM {_L} x "
        f"WHERE x.pensioner_id = p.id AND x.month = %(m)s AND x.kind IN ('pay', 'back_pay')) ORDER BY p.id",
        p,
    )
    _x(
        f"INSERT INTO {_L} (roster_month, pensioner_id, kind, month, amount, note) "  # noqa: S608 - identifiers from _meta, values bound
        f"SELECT %(m)s, p.id, 'suspended', %(m)s, p.monthly_amount, "
        f"COALESCE('暂停自 ' || CAST(p.suspended_since AS text), '') FROM {_P} p "
        f"WHERE {alive} AND p.valid_until < %(floor)s AND NOT EXISTS (SELECT 1 FROM {_L} x "
        f"WHERE x.pensioner_id = p.id AND x.month = %(m)s AND x.kind IN ('pay', 'back_pay')) ORDER BY p.id",
        p,
    )
    # 4. Open overpayment cases (a handful): listed on every roster until recovered or cancelled.
    LedgerEntry.objects.bulk_create([
        LedgerEntry(roster_month=month, pensioner_id=o.pensioner_id, kind=LedgerEntry.Kind.OVERPAYMENT, month=month,
                    amount=o.total,
                    note=f"死亡日期 {o.death_date}；多发月份 {'、'.join(str(x)[:7] for x in o.months)}"[:200])
        for o in Overpayment.objects.filter(state=Overpayment.State.OPEN, opened_on__lt=rules.add_months(month, 1))
    ])
    counts = ledger_summary(month)
    RosterMonth.objects.filter(pk=closing.pk).update(counts=counts)
    AuditLog.objects.create(actor=actor, action="roster_close", detail={"month": month.isoformat(), **counts})
    return RosterClose(month=month, closed_now=True, counts=counts)


def closed_months() -> list[dt.date]:
    return list(RosterMonth.objects.order_by("month").values_list("month", flat=True))


def ledger_for(pensioner_id: int) -> rules.Ledger:
    """The rules' view of one person's ledger (tests and single-person pages)."""
    return rules.Ledger(
        closed=frozenset(closed_months()),
        paid=frozenset(LedgerEntry.objects.filter(pensioner_id=pensioner_id, kind__in=LedgerEntry.PAID_KINDS)
                       .values_list("month", flat=True)),
        lined=frozenset(BackPayLine.objects.filter(pensioner_id=pensioner_id).values_list("month", flat=True)),
    )
