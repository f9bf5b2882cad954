"""export_payment_roster --month YYYY-MM [--output PATH] [--excel]: the bank-file CSV (DESIGN §4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from certification.dashboards.roster import parse_month, roster_export
from certification.management.base import JsonCommand


class Command(JsonCommand):
    help = ("Close a month's payment roster in the ledger (the first time) and write its CSV: who is paid, "
            "suspended, back-pay lines, overpayments. A closed month is replayed, never reopened.")

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--output", help="CSV path; default var/roster/roster-YYYY-MM.csv")
        parser.add_argument("--excel", action="store_true",
                            help="write ID numbers as Excel text (=\"…\") for opening by hand, not for the bank")

    def run(self, **options: Any) -> dict[str, Any]:
        try:
            first = parse_month(options["month"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        path = Path(options.get("output") or settings.VAR_DIR / "roster" / f"roster-{first:%Y-%m}.csv")
        return roster_export(first=first, path=path, excel_text_ids=options["excel"])
