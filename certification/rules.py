"""The status rules of DESIGN §2 as pure functions of dates.

Every caller (the nightly job, the views, the API, the roster) uses these. Where SQL
must do the same work for speed it is handed thresholds computed here, so the rule
lives in one place; tests/test_rules_sql_agreement.py checks both agree.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.conf import settings


class Status(StrEnum):
    ACTIVE = "active"
    WARNING = "warning"
    SUSPENDED = "suspended"
    DECEASED = "deceased"


PAID_STATUSES = frozenset({Status.ACTIVE, Status.WARNING})


def cycle_months() -> int:
    return settings.CERT_CYCLE_MONTHS


def warning_months() -> int:
    return settings.CERT_WARNING_MONTHS


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar arithmetic: 31 Jan + 1 month = 28/29 Feb (clamped, never spills over)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month_start(day: dt.date) -> dt.date:
    return add_months(month_start(day), 1)


def extend(valid_until: dt.date | None, evidence_date: dt.date) -> dt.date:
    """Deferred certification: evidence dated D gives D + cycle, never shorter than now."""
    candidate = add_months(evidence_date, cycle_months())
    if valid_until is None or candidate > valid_until:
        return candidate
    return valid_until


def warning_ends(valid_until: dt.date) -> dt.date:
    """The last day of the warning window (still paid, still in warning)."""
    return add_months(valid_until, warning_months())


def suspension_date(valid_until: dt.date) -> dt.date:
    """Suspension takes effect the day after the warning window ends."""
    return warning_ends(valid_until) + dt.timedelta(days=1)


def status(valid_until: dt.date, today: dt.date) -> Status:
    if today <= valid_until:
        return Status.ACTIVE
    if today <= warning_ends(valid_until):
        return Status.WARNING
    return Status.SUSPENDED


def days_until_suspension(valid_until: dt.date, today: dt.date) -> int:
    return (suspension_date(valid_until) - today).days


def earliest_unsuspended_valid_until(today: dt.date) -> dt.date:
    """The smallest valid_until whose warning window still covers `today`.

    warning_ends() is monotone but not strictly (29, 30 and 31 Nov+3 months all
    clamp to 28/29 Feb), so this searches around the naive answer instead of
    subtracting months. SQL then filters with `valid_until >= this`, a plain
    comparison on the indexed column.
    """
    candidate = add_months(today, -warning_months())
    while warning_ends(candidate) < today:
        candidate += dt.timedelta(days=1)
    while warning_ends(candidate - dt.timedelta(days=1)) >= today:
        candidate -= dt.timedelta(days=1)
    return candidate


def months_between(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """Month starts m with first <= m <= last."""
    m = month_start(first)
    if m < first:
        m = add_months(m, 1)
    while m <= last:
        yield m
        m = add_months(m, 1)


def missed_months(suspended_since: dt.date, restored_on: dt.date) -> list[dt.date]:
    """Payment months not paid because of a suspension.

    A month is paid when the person is active or warning on its 1st. Suspended
    from `suspended_since` (inclusive) until `restored_on` (exclusive: on that day
    the person is active again), so every 1st in [suspended_since, restored_on).
    """
    return list(months_between(suspended_since, restored_on - dt.timedelta(days=1)))


def back_pay(months: list[dt.date], monthly_amount: Decimal) -> list[tuple[dt.date, Decimal]]:
    """Itemised back-pay: one line per missed month."""
    return [(m, monthly_amount) for m in months]


def overpaid_months(
    death_date: dt.date, run_date: dt.date, suspended_since: dt.date | None = None
) -> list[dt.date]:
    """Months paid strictly after the death month, up to and including the run's month.

    A month whose 1st fell inside a suspension was not paid, so it is not owed back.
    """
    first = next_month_start(death_date)
    months = months_between(first, month_start(run_date))
    if suspended_since is None:
        return list(months)
    return [m for m in months if m < suspended_since]


def is_paid_for_month(status_on_first: Status) -> bool:
    return status_on_first in PAID_STATUSES


def paid_on_first(valid_until: dt.date, first: dt.date) -> bool:
    """Whether `valid_until` makes the person payable for the month starting `first`.

    SQL writes this as `valid_until >= earliest_unsuspended_valid_until(first)`.
    """
    return is_paid_for_month(status(valid_until, first))


@dataclass(frozen=True)
class Ledger:
    """What one person was paid, as the payment ledger records it (DESIGN §2).

    `closed` are the months whose roster has been closed (for everyone); `paid` are
    this person's months paid in the ledger (regular or back-pay); `lined` are the
    months this person already has a back-pay line for (paid or waiting for a roster).
    Months before the first closed roster were paid by the rule, as the person's
    status stood on each 1st: every month except those from `unpaid_since` on, and
    those a back-pay line was written for.
    """

    closed: frozenset[dt.date] = frozenset()
    paid: frozenset[dt.date] = frozenset()
    lined: frozenset[dt.date] = frozenset()

    @property
    def first_closed(self) -> dt.date | None:
        return min(self.closed) if self.closed else None

    def regime(self, month: dt.date) -> str:
        """'rule' (before the ledger), 'closed' (the ledger says), or 'open' (its roster is still to come)."""
        first = self.first_closed
        if first is None or month < first:
            return "rule"
        return "closed" if month in self.closed else "open"

    def was_paid(self, month: dt.date, *, unpaid_since: dt.date | None) -> bool | None:
        """True/False for a month already decided; None for an open month (its roster will decide)."""
        regime = self.regime(month)
        if month in self.paid:
            return True
        if regime == "rule":
            # A month with a back-pay line was one the rule did not pay (its line pays it).
            return month not in self.lined and (unpaid_since is None or month < unpaid_since)
        if regime == "closed":
            return False
        return None


def back_pay_months(*, new_valid_until: dt.date, today: dt.date, ledger: Ledger, unpaid_since: dt.date | None,
                    enrolled_on: dt.date) -> list[dt.date]:
    """The months to back-pay when validity becomes `new_valid_until` (DESIGN §2 back-pay).

    Every month not paid whose 1st the new validity covers: before the ledger, the months
    from `unpaid_since` up to today; in the ledger, every closed month not paid (a closed
    roster for a month not yet begun is a decision already taken, so it counts too). Open
    months are left to their own roster, which pays by the status on the 1st. Months
    before enrolment and months already on a back-pay line are never back-paid.
    """
    candidates: set[dt.date] = set()
    if unpaid_since is not None:
        candidates.update(m for m in months_between(unpaid_since, today) if ledger.regime(m) == "rule")
    # A closed roster lists only the enrolled: a month closed before enrolment is not the portal's to pay.
    candidates.update(m for m in ledger.closed if add_months(m, 1) > enrolled_on)
    return sorted(
        m for m in candidates
        if m not in ledger.lined and paid_on_first(new_valid_until, m)
        and ledger.was_paid(m, unpaid_since=unpaid_since) is False
    )


def overpaid_months_in_ledger(*, death_date: dt.date, run_date: dt.date, ledger: Ledger,
                              unpaid_since: dt.date | None) -> list[dt.date]:
    """Months paid strictly after the death month (DESIGN §2 overpayment).

    The months in the ledger, and before the first closed roster the months the rule paid
    up to and including the month of the run. With no ledger this is overpaid_months().
    """
    first = next_month_start(death_date)
    by_rule = [m for m in months_between(first, month_start(run_date))
               if ledger.regime(m) == "rule" and ledger.was_paid(m, unpaid_since=unpaid_since)]
    return sorted({*by_rule, *(m for m in ledger.paid if m >= first)})


def age_on(birth_date: dt.date, today: dt.date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def today_local() -> dt.date:
    """Today's date in Asia/Shanghai (settings.TIME_ZONE)."""
    from django.utils import timezone

    return timezone.localdate()
