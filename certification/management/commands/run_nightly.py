"""What beat runs each night, in order: matching, transitions, reminders, dashboard snapshot."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import CommandError

from certification import rules
from certification.management.base import JsonCommand
from certification.nightly import nightly_run


class Command(JsonCommand):
    help = "Run the nightly job: matching, status transitions, reminder scheduling, dashboard snapshot."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--today", help="YYYY-MM-DD (Asia/Shanghai); default today")

    def run(self, **options: Any) -> dict[str, Any]:
        try:
            today = dt.date.fromisoformat(options["today"]) if options.get("today") else rules.today_local()
        except ValueError:
            raise CommandError(f"--today 日期格式应为 YYYY-MM-DD：{options['today']!r}") from None
        started = time.monotonic()
        result = nightly_run(today=today)
        result["seconds"] = round(time.monotonic() - started, 3)
        return result
