from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from certification import idnumber
from certification.management.base import JsonCommand
from certification.models import Pensioner
from certification.selectors import pensioner_summary


class Command(JsonCommand):
    help = "Print one pensioner's status, certifications and money as JSON."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("id_number")

    def run(self, **options: Any) -> dict[str, Any]:
        number = idnumber.normalize(options["id_number"])
        try:
            pensioner = Pensioner.objects.get(id_number=number)
        except Pensioner.DoesNotExist:
            raise CommandError(f"未找到身份证号为 {number} 的人员") from None
        return pensioner_summary(pensioner)
