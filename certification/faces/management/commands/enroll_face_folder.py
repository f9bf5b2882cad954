"""enroll_face_folder FOLDER: bulk-enrol <id_number>.jpg ID photos (a Celery task on the `face` queue)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management import CommandError

from certification.faces import services
from certification.faces.models import BulkEnrolment
from certification.management.base import JsonCommand


class Command(JsonCommand):
    help = "Start the bulk enrolment of a folder of <id_number>.jpg photos; --wait follows its progress."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("folder")
        parser.add_argument("--wait", action="store_true", help="poll until the run has finished")

    def run(self, **options: Any) -> dict[str, Any]:
        try:
            run = services.bulk_enrolment_start(folder=options["folder"])
        except services.FaceDenied as exc:  # outside FACE_IMPORT_ROOT (issue 13)
            raise CommandError(exc.message) from None
        run.refresh_from_db()
        while options["wait"] and run.state in (BulkEnrolment.State.PENDING, BulkEnrolment.State.RUNNING):
            time.sleep(1)
            run.refresh_from_db()
            self.progress(run.processed, run.total, "enrolling")
        return {"run": run.pk, "state": run.state, "total": run.total, "processed": run.processed,
                "enrolled": run.enrolled, "skipped": run.skipped, "errors": run.errors}
