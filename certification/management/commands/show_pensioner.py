from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from certification import idnumber
from certification.evidence import evidence_log, live_certifications
from certification.management.base import JsonCommand, TodayCommand
from certification.models import Pensioner
from certification.selectors import pensioner_summary


class Command(TodayCommand, JsonCommand):
    help = "Print one pensioner's status, certifications and money as JSON."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        super().add_arguments(parser)
        parser.add_argument("id_number")

    def run(self, **options: Any) -> dict[str, Any]:
        number = idnumber.normalize(options["id_number"])
        try:
            pensioner = Pensioner.objects.get(id_number=number)
        except Pensioner.DoesNotExist:
            raise CommandError(f"未找到身份证号为 {number} 的人员") from None
        today = self.today(options)
        summary = pensioner_summary(pensioner)
        # DESIGN §4: voided certifications are listed in neither list.
        summary["certifications"] = [
            {"method": c.method, "occurred_on": c.occurred_on.isoformat(), "source": c.source}
            for c in live_certifications(pensioner)
        ]
        # Every matched qualifying record of the last 12 months, not only the one that moved the date.
        summary["evidence"] = evidence_log(pensioner, today=today)
        return summary
