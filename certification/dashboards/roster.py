"""The monthly payment roster the bank file is built from (export_payment_roster).

Month M is paid to everyone who is active or warning on M's 1st (DESIGN §2) and not
dead before it (the death month itself is paid, as rules.overpaid_months assumes).
The status on the 1st comes from rules: `valid_until >= earliest_unsuspended_valid_until(1st)`
is exactly `rules.status(valid_until, 1st) in PAID_STATUSES`, as a comparison on an
indexed column, so 2 million rows stream in one query.

Sections, one CSV row each:
* pay          — person, amount for M;
* suspended    — person withheld in M (amount withheld, suspended since);
* back_pay     — one row per BackPayLine of statements restored in the month before M
                 (paid with M's pension; each statement lands in exactly one roster);
* overpayment  — open overpayments opened up to the end of M, with their months.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from django.db.models import Q

from certification import rules
from certification.models import BackPayLine, Overpayment, Pensioner
from certification.private_files import open_private, private_dir
from certification.spreadsheets import csv_row

HEADER = ["类别代码", "类别", "身份证号", "姓名", "区（市）", "街道", "所属月份", "金额（元）", "说明"]
SECTION_LABEL = {"pay": "正常发放", "suspended": "暂停发放", "back_pay": "恢复补发", "overpayment": "多发追回"}


def parse_month(raw: str) -> dt.date:
    try:
        return dt.datetime.strptime(raw, "%Y-%m").date().replace(day=1)  # noqa: DTZ007 - a calendar month, no time
    except ValueError:
        raise ValueError(f"--month 应为 YYYY-MM：{raw!r}") from None


def _alive_on(first: dt.date) -> Q:
    return Q(death_date__isnull=True) | Q(death_date__gte=first)


def paid_queryset(first: dt.date):  # type: ignore[no-untyped-def]
    floor = rules.earliest_unsuspended_valid_until(first)
    return Pensioner.objects.filter(_alive_on(first), valid_until__gte=floor)


def suspended_queryset(first: dt.date):  # type: ignore[no-untyped-def]
    floor = rules.earliest_unsuspended_valid_until(first)
    return Pensioner.objects.filter(_alive_on(first), valid_until__lt=floor)


def back_pay_lines(first: dt.date):  # type: ignore[no-untyped-def]
    prev = rules.add_months(first, -1)
    return BackPayLine.objects.filter(back_pay__restored_on__gte=prev, back_pay__restored_on__lt=first)


def overpayments(first: dt.date):  # type: ignore[no-untyped-def]
    return Overpayment.objects.filter(state=Overpayment.State.OPEN, opened_on__lt=rules.add_months(first, 1))


_PERSON = ["id_number", "name", "street_office__district__name", "street_office__name"]


def roster_rows(first: dt.date) -> Iterator[tuple[str, list[object]]]:
    m = first.strftime("%Y-%m")
    for idn, name, district, office, amount in paid_queryset(first).order_by("id").values_list(
        *_PERSON, "monthly_amount"
    ).iterator(chunk_size=10000):
        yield "pay", [idn, name, district, office, m, amount, ""]
    for idn, name, district, office, amount, since in suspended_queryset(first).order_by("id").values_list(
        *_PERSON, "monthly_amount", "suspended_since"
    ).iterator(chunk_size=10000):
        yield "suspended", [idn, name, district, office, m, amount, f"暂停自 {since}" if since else ""]
    for *person, month, amount, restored in back_pay_lines(first).order_by("back_pay_id", "month").values_list(
        *[f"back_pay__pensioner__{f}" for f in _PERSON], "month", "amount", "back_pay__restored_on"
    ).iterator(chunk_size=10000):
        yield "back_pay", [*person, month.strftime("%Y-%m"), amount, f"{restored} 恢复发放"]
    for *person, months, total, death in overpayments(first).order_by("id").values_list(
        *[f"pensioner__{f}" for f in _PERSON], "months", "total", "death_date"
    ).iterator(chunk_size=10000):
        label = "、".join(str(x)[:7] for x in months)
        yield "overpayment", [*person, m, total, f"死亡日期 {death}；多发月份 {label}"]


def roster_write(*, first: dt.date, path: Path, excel_text_ids: bool = False) -> dict[str, object]:
    """Write the CSV (UTF-8 with BOM, so Excel shows the Chinese headers) and return the totals."""
    counts = dict.fromkeys(SECTION_LABEL, 0)
    totals = {k: Decimal(0) for k in SECTION_LABEL}
    private_dir(path.parent)
    # Owner-only (0600): the roster holds every paid person's ID number (DESIGN §7).
    with open_private(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for section, row in roster_rows(first):
            counts[section] += 1
            totals[section] += Decimal(row[5])
            row = csv_row(row)  # names and offices are data, never formulas (DESIGN §7)
            if excel_text_ids:
                # Excel turns 18 digits into 3.7E+17 and drops digits; ="…" keeps it text.
                row = [f'="{row[0]}"', *row[1:]]
            out.writerow([section, SECTION_LABEL[section], *row[:5], f"{Decimal(row[5]):.2f}", row[6]])
    return {
        "month": first.strftime("%Y-%m"),
        "paid": counts["pay"], "paid_total": f"{totals['pay']:.2f}",
        "suspended": counts["suspended"], "suspended_total": f"{totals['suspended']:.2f}",
        "back_pay_lines": counts["back_pay"], "back_pay_total": f"{totals['back_pay']:.2f}",
        "overpayments": counts["overpayment"], "overpayment_total": f"{totals['overpayment']:.2f}",
        "file": str(path),
    }
