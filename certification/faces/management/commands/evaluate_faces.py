"""evaluate_faces --manifest CSV [--tolerance T]: FAR/FRR of the production matcher (DESIGN §4)."""

from __future__ import annotations

import csv
import itertools
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from certification.faces import engine, services
from certification.management.base import JsonCommand


class Command(JsonCommand):
    help = "Compare every genuine and impostor pair in a manifest (path,identity) with the production matcher."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--manifest", required=True)
        parser.add_argument("--tolerance", type=float, default=None)

    def run(self, **options: Any) -> dict[str, Any]:
        manifest = Path(options["manifest"])
        tolerance = options["tolerance"] if options["tolerance"] is not None else settings.FACE_TOLERANCE
        try:
            with manifest.open(encoding="utf-8-sig", newline="") as fh:
                rows = [(r["path"], r["identity"]) for r in csv.DictReader(fh)]
        except (OSError, KeyError) as exc:
            raise CommandError(f"无法读取清单（需要 path,identity 两列）：{exc}") from None
        if not rows:
            raise CommandError("清单是空的")
        limits = services.photo_limits()
        encodings: list[tuple[str, Any]] = []
        started = time.perf_counter()
        for n, (rel, identity) in enumerate(rows, 1):
            try:
                vec = engine.photo_encoding((manifest.parent / rel).read_bytes(), limits)
            except (OSError, engine.FaceError) as exc:
                # An unusable image cannot match anyone: its genuine pairs count as rejected.
                sys.stderr.write(f"{rel}: {getattr(exc, 'reason', exc)}\n")
                vec = None
            encodings.append((identity, vec))
            self.progress(n, len(rows), "encoding")
        ms_per_image = (time.perf_counter() - started) * 1000 / len(rows)
        genuine = impostor = false_rejects = false_accepts = 0
        for (ia, ea), (ib, eb) in itertools.combinations(encodings, 2):
            accepted = ea is not None and eb is not None and engine.distance(ea, eb) <= tolerance
            if ia == ib:
                genuine += 1
                false_rejects += not accepted
            else:
                impostor += 1
                false_accepts += accepted
        return {
            "genuine_pairs": genuine,
            "impostor_pairs": impostor,
            "frr": round(false_rejects / genuine, 4) if genuine else 0.0,
            "far": round(false_accepts / impostor, 4) if impostor else 0.0,
            "tolerance": tolerance,
            "ms_per_image": round(ms_per_image, 1),
        }
