"""run_matching [--today YYYY-MM-DD]: the nightly big-data matching (DESIGN §4)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from bigdata.locks import AlreadyRunning
from bigdata.matching import matching_run
from certification.management.base import JsonCommand, TodayCommand


class Command(TodayCommand, JsonCommand):
    help = "Match the night's evidence: extend validity, deaths, fraud alerts, then status transitions."

    def run(self, **options: Any) -> dict[str, Any]:
        today = self.today(options)
        try:
            return matching_run(today=today)
        except AlreadyRunning:
            raise CommandError("already running: another run_matching holds the lock (比对任务正在运行)") from None
