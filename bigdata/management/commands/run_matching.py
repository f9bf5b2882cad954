"""run_matching [--today YYYY-MM-DD]: the nightly big-data matching (DESIGN §4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError

from bigdata.locks import AlreadyRunning
from bigdata.matching import matching_run
from certification import rules
from certification.management.base import JsonCommand


class Command(JsonCommand):
    help = "Match the night's evidence: extend validity, deaths, fraud alerts, then status transitions."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--today", help="YYYY-MM-DD (Asia/Shanghai); default today")

    def run(self, **options: Any) -> dict[str, Any]:
        try:
            today = dt.date.fromisoformat(options["today"]) if options.get("today") else rules.today_local()
        except ValueError:
            raise CommandError(f"--today 日期格式应为 YYYY-MM-DD：{options['today']!r}") from None
        try:
            return matching_run(today=today)
        except AlreadyRunning:
            raise CommandError("already running: another run_matching holds the lock (比对任务正在运行)") from None
