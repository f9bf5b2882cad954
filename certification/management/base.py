"""Base for the DESIGN §4 commands: one JSON object on the last line of stdout."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class TodayCommand:
    """Mixin: the nightly commands' `--today YYYY-MM-DD` option (default: today in Asia/Shanghai)."""

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--today", help="YYYY-MM-DD (Asia/Shanghai); default today")

    @staticmethod
    def today(options: dict[str, Any]):  # type: ignore[no-untyped-def]
        import datetime as dt

        from certification import rules

        if not options.get("today"):
            return rules.today_local()
        try:
            return dt.date.fromisoformat(options["today"])
        except ValueError:
            raise CommandError(f"--today 日期格式应为 YYYY-MM-DD：{options['today']!r}") from None


class JsonCommand(BaseCommand):
    """Subclasses implement run(**options) -> dict. Errors exit non-zero with a JSON error line."""

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = self.run(**options)
        except CommandError as exc:
            self.stdout.write(json.dumps({"error": str(exc)}, ensure_ascii=False))
            raise
        self.stdout.write(json.dumps(result, ensure_ascii=False, default=str))

    def run(self, **options: Any) -> dict[str, Any]:
        raise NotImplementedError

    def progress(self, done: int, total: int, label: str = "") -> None:
        """A progress bar on stderr, only on a terminal."""
        if not sys.stderr.isatty() or total <= 0:
            return
        width = 30
        filled = int(width * done / total)
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()
