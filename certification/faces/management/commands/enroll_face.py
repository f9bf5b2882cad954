"""enroll_face ID_NUMBER IMAGE: store the reference face encoding (DESIGN §4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from certification import idnumber
from certification.faces import engine, services
from certification.faces.models import ReferenceFace
from certification.management.base import JsonCommand
from certification.models import Pensioner


class Command(JsonCommand):
    help = "Store a pensioner's reference face encoding from one photo."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("id_number")
        parser.add_argument("image")

    def run(self, **options: Any) -> dict[str, Any]:
        id_number = idnumber.normalize(options["id_number"])
        pensioner = Pensioner.objects.filter(id_number=id_number).first()
        if pensioner is None:
            raise CommandError(f"没有身份证号为 {id_number} 的退休人员")
        try:
            data = Path(options["image"]).read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取图片：{exc}") from None
        try:
            ref = services.reference_enroll(pensioner=pensioner, image=data, source=ReferenceFace.Source.COMMAND,
                                            source_ref=Path(options["image"]).name)
        except engine.FaceError as exc:
            raise CommandError(f"{exc.reason}: {exc.message}") from None
        return {"id_number": id_number, "enrolled": True, "source": ref.source, "reference_id": ref.pk}
