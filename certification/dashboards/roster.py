"""The monthly payment roster the bank file is built from (export_payment_roster, DESIGN §4).

The first export of month M closes M in the payment ledger (certification.ledger.roster_close:
who is paid for M by the rule on its 1st, the back-pay lines waiting for a roster, who
is withheld, the open overpayment cases). Every export of M, the first included, then
writes the CSV from the rows recorded for M, so a re-export is the same file and pays
nothing new; back-pay that arises after M closed is paid in the next month that closes.

Sections, one CSV row each, in this order:
* pay          — person, amount for M;
* suspended    — person withheld in M (amount withheld, suspended since);
* back_pay     — one row per month back-paid with M's pension (its own month in 所属月份);
* refund       — a recovered overpayment paid back after its death was revoked (issue 10);
* overpayment  — open overpayments, with their months.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from django.db.models import Value
from django.db.models.functions import Coalesce

from certification.ledger import roster_close
from certification.models import LedgerEntry, User
from certification.private_files import open_private, private_dir
from certification.spreadsheets import csv_row

HEADER = ["类别代码", "类别", "身份证号", "姓名", "区（市）", "街道", "所属月份", "金额（元）", "说明"]
SECTION_LABEL = {"pay": "正常发放", "suspended": "暂停发放", "back_pay": "恢复补发", "refund": "退还已追回款",
                 "overpayment": "多发追回"}


def parse_month(raw: str) -> dt.date:
    try:
        return dt.datetime.strptime(raw, "%Y-%m").date().replace(day=1)  # noqa: DTZ007 - a calendar month, no time
    except ValueError:
        raise ValueError(f"--month 应为 YYYY-MM：{raw!r}") from None


SECTIONS = ["pay", "suspended", "back_pay", "refund", "overpayment"]
_CASE = Coalesce("overpayment", Value(0))
_PERSON = ["pensioner__id_number", "pensioner__name", "pensioner__street_office__district__name",
           "pensioner__street_office__name"]


def roster_rows(first: dt.date) -> Iterator[tuple[str, list[object]]]:
    """The rows recorded for roster month `first`, section by section."""
    for section in SECTIONS:
        # The case breaks the tie between two refunds of one person in one roster (ledger_row_once's order).
        rows = (LedgerEntry.objects.filter(roster_month=first, kind=section).order_by("pensioner_id", "month", _CASE)
                .values_list(*_PERSON, "month", "amount", "note"))
        for idn, name, district, office, month, amount, note in rows.iterator(chunk_size=10000):
            yield section, [idn, name, district, office, month.strftime("%Y-%m"), amount, note]


def roster_export(*, first: dt.date, path: Path, excel_text_ids: bool = False, today: dt.date | None = None,
                  actor: User | None = None) -> dict[str, object]:
    """Close the month if it is still open, then write its CSV (UTF-8 with BOM, so Excel shows the Chinese headers)."""
    closing = roster_close(month=first, today=today, actor=actor)
    private_dir(path.parent)
    # Owner-only (0600): the roster holds every paid person's ID number (DESIGN §7, H5b).
    with open_private(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for section, row in roster_rows(first):
            row = csv_row(row)  # names and offices are data, never formulas (DESIGN §7, H5b)
            if excel_text_ids:
                # Excel turns 18 digits into 3.7E+17 and drops digits; ="…" keeps it text.
                row = [f'="{row[0]}"', *row[1:]]
            out.writerow([section, SECTION_LABEL[section], *row[:5], f"{row[5]:.2f}", row[6]])
    c = closing.counts
    return {
        "month": first.strftime("%Y-%m"), "closed_now": closing.closed_now,
        "paid": c["paid"], "paid_amount": c["paid_amount"],
        "back_pay_lines": c["back_pay_lines"], "back_pay_amount": c["back_pay_amount"],
        "suspended": c["suspended"], "overpayments": c["overpayments"], "path": str(path),
    }
