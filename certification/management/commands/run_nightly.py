"""What beat runs each night, in order: matching, transitions, reminders, dashboard snapshot."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandError

from bigdata.locks import AlreadyRunning
from certification.management.base import JsonCommand, TodayCommand
from certification.nightly import nightly_run


class Command(TodayCommand, JsonCommand):
    help = "Run the nightly job: matching, status transitions, reminder scheduling, dashboard snapshot."

    def run(self, **options: Any) -> dict[str, Any]:
        today = self.today(options)
        started = time.monotonic()
        try:
            result = nightly_run(today=today)
        except AlreadyRunning:
            raise CommandError("already running: another nightly or matching run holds the lock (比对任务正在运行)") from None
        result["seconds"] = round(time.monotonic() - started, 3)
        return result
