"""benchmark_faces: server time of one face attempt against the library floor, in the same run.

An attempt is FRAMES uploaded JPEG frames (default: the 12 committed clip frames cycled to 50,
what the page sends at 5 fps over a server-led session of ~10 s). The engine's time includes
decoding, detection, landmarks, perceptual hashes and the identity encodings. The floor is what
the library needs for the same frames with no engine at all: face_locations + face_encodings +
face_landmarks on every (already decoded) frame. Runs alternate engine/floor so that machine
noise hits both alike.

It also reports `after_last_chunk_ms`: the work left when the last 3-frame chunk arrives, since
every earlier chunk was analysed as it arrived (the verdict's delay after the last frame).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import face_recognition
import numpy as np
from django.conf import settings
from django.core.management.base import CommandError

from certification.faces import engine, services
from certification.management.base import JsonCommand

DEFAULT_FRAMES = Path(settings.BASE_DIR) / "tests" / "fixtures" / "faces" / "clip"
DEFAULT_REFERENCE = Path(settings.BASE_DIR) / "tests" / "fixtures" / "faces" / "lin_manuel_miranda_1.jpg"


def _p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


class Command(JsonCommand):
    help = "Time one face attempt (all frames) against the face_recognition floor on the same frames."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--frames-dir", default=str(DEFAULT_FRAMES))
        parser.add_argument("--reference", default=str(DEFAULT_REFERENCE))
        parser.add_argument("--frames", type=int, default=50, help="frames per attempt (cycled from the folder)")
        parser.add_argument("--runs", type=int, default=10)

    def run(self, **options: Any) -> dict[str, Any]:
        files = sorted(Path(options["frames_dir"]).glob("*.jpg"))
        if not files:
            raise CommandError("没有找到帧图片")
        data = [files[i % len(files)].read_bytes() for i in range(options["frames"])]
        reference = engine.photo_encoding(Path(options["reference"]).read_bytes(), services.photo_limits())
        limits = services.frame_limits()
        decoded = [np.asarray(face_recognition.load_image_file(f)) for f in [files[i % len(files)] for i in range(len(data))]]
        arrived = [i * 200 for i in range(len(data))]
        prompts = [engine.Prompt("turn_right", 300), engine.Prompt("open_mouth", 1300)]
        args = {"arrived_ms": arrived, "prompts": prompts, "reference": reference, "tolerance": settings.FACE_TOLERANCE,
                "limits": limits, "face_share": settings.FACE_LIVENESS_FACE_SHARE,
                "splice_tolerance": settings.FACE_SPLICE_TOLERANCE}
        last = len(data) - (len(data) % engine.CHUNK_FRAMES or engine.CHUNK_FRAMES)
        analysed = [i for k in range(0, last, engine.CHUNK_FRAMES)  # every chunk but the last, as they arrived
                    for i in engine.analyse_chunk(data[k:k + engine.CHUNK_FRAMES], limits)]

        def floor() -> float:
            t = time.perf_counter()
            for img in decoded:
                locs = face_recognition.face_locations(img)
                face_recognition.face_encodings(img, locs)
                face_recognition.face_landmarks(img, locs)
            return time.perf_counter() - t

        ours: list[float] = []
        floors: list[float] = []
        tails: list[float] = []
        verdict = None
        floor()  # warm-up: models into the cache
        for n in range(options["runs"]):
            t = time.perf_counter()
            verdict = engine.verify(data, **args)
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            engine.verify(data, infos=[*analysed, *[None] * (len(data) - last)], **args)
            tails.append(time.perf_counter() - t)
            floors.append(floor())
            self.progress(n + 1, options["runs"], "runs")
        med, fmed = statistics.median(ours), statistics.median(floors)
        return {
            "frames": len(data),
            "runs": options["runs"],
            "attempt_ms_median": round(med * 1000, 1),
            "attempt_ms_p95": round(_p95(ours) * 1000, 1),
            "floor_ms_median": round(fmed * 1000, 1),
            "floor_ms_p95": round(_p95(floors) * 1000, 1),
            "ratio": round(med / fmed, 3),
            "after_last_chunk_ms": round(statistics.median(tails) * 1000, 1),
            "after_last_chunk_ms_p95": round(_p95(tails) * 1000, 1),
            "stages_ms_last_run": verdict.timings_ms if verdict else {},
            "passed": bool(verdict and verdict.passed),
        }
