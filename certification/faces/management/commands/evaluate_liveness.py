"""evaluate_liveness --manifest CSV: the production liveness-and-identity decision on recorded attempts.

The manifest has the columns `sequence,reference,prompts,label` (DESIGN §4): `sequence` a folder of
frames 000.jpg, 001.jpg, … at 5 frames a second (frame i arrives i × 200 ms after the session
starts), `reference` the reference photo, `prompts` like `turn_right@5;open_mouth@17` (the frame
index at which the server issued each prompt), `label` `bona_fide` or the attack's name. Rows are
decided in order with one replay memory kept across them, as production keeps it across sessions.

Prints {"bona_fide","attacks","bpcer","apcer","apcer_by_attack","ms_per_attempt"} (ISO/IEC 30107-3:
APCER is the share of attacks accepted, BPCER the share of bona fide attempts refused), and adds
"refused_by" (reasons per label) and "accepted" (the rows that were accepted, for attacks).
"""

from __future__ import annotations

import csv
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from certification.faces import engine, services
from certification.management.base import JsonCommand

FRAME_MS = 200  # 5 frames a second


def _prompts(text: str, row: int) -> list[engine.Prompt]:
    out = []
    for part in (text or "").split(";"):
        kind, _, at = part.strip().partition("@")
        if kind not in engine.KINDS or not at.strip().isdigit():
            raise CommandError(f"第 {row} 行：动作写法不对（{part!r}），应为 turn_right@5;open_mouth@17")
        out.append(engine.Prompt(kind, int(at) * FRAME_MS))
    if len(out) < 2:
        raise CommandError(f"第 {row} 行：至少要有两个动作")
    return out


class Command(JsonCommand):
    help = "Run the production liveness-and-identity decision on recorded attempts (sequence,reference,prompts,label)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--manifest", required=True)

    def run(self, **options: Any) -> dict[str, Any]:
        manifest = Path(options["manifest"])
        try:
            with manifest.open(encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.DictReader(fh))
        except OSError as exc:
            raise CommandError(f"无法读取清单：{exc}") from None
        if not rows:
            raise CommandError("清单是空的")
        missing = {"sequence", "reference", "prompts", "label"} - set(rows[0])
        if missing:
            raise CommandError(f"清单缺少列：{', '.join(sorted(missing))}")
        frame_limits, photo_limits = services.frame_limits(), services.photo_limits()
        references: dict[str, Any] = {}
        memory = engine.InMemoryReplayMemory()
        counts: Counter[str] = Counter()
        accepted: Counter[str] = Counter()
        refused_by: dict[str, Counter[str]] = defaultdict(Counter)
        accepted_rows: list[str] = []
        spent = 0.0
        checked = []
        for n, row in enumerate(rows, start=2):  # line 1 is the header; every row is checked before any runs
            label = (row["label"] or "").strip()
            files = sorted((manifest.parent / (row["sequence"] or "")).glob("*.jpg")) if row["sequence"] else []
            if not label:
                raise CommandError(f"第 {n} 行：没有 label")
            if not files:
                raise CommandError(f"第 {n} 行：{row['sequence']} 里没有 000.jpg 这样的帧")
            checked.append((n, row, label, files, _prompts(row["prompts"], n)))
        for n, row, label, files, prompts in checked:
            ref_key = row["reference"]
            if ref_key not in references:
                try:
                    references[ref_key] = engine.photo_encoding((manifest.parent / ref_key).read_bytes(), photo_limits)
                except (OSError, engine.FaceError) as exc:
                    raise CommandError(f"第 {n} 行：参考照片不能用（{getattr(exc, 'message', exc)}）") from None
            frames = [f.read_bytes() for f in files]
            started = time.perf_counter()
            try:
                verdict = engine.verify(
                    frames, arrived_ms=[i * FRAME_MS for i in range(len(frames))], prompts=prompts,
                    reference=references[ref_key], tolerance=settings.FACE_TOLERANCE, limits=frame_limits,
                    face_share=settings.FACE_LIVENESS_FACE_SHARE, splice_tolerance=settings.FACE_SPLICE_TOLERANCE)
                reason = verdict.reason
                if verdict.hashes:
                    if engine.replay_find(verdict.hashes, memory) is not None:
                        reason = "replay"
                    memory.remember(n, verdict.hashes)
            except engine.UploadRejected:
                reason = "unreadable"
            spent += time.perf_counter() - started
            counts[label] += 1
            if reason:
                refused_by[label][reason] += 1
            else:
                accepted[label] += 1
                if label != "bona_fide":
                    accepted_rows.append(row["sequence"])
            self.progress(n - 1, len(rows), "attempts")
        bona = counts.pop("bona_fide", 0)
        attacks = sum(counts.values())
        return {
            "bona_fide": bona,
            "attacks": attacks,
            "bpcer": round((bona - accepted["bona_fide"]) / bona, 4) if bona else None,
            "apcer": round(sum(accepted[k] for k in counts) / attacks, 4) if attacks else None,
            "apcer_by_attack": {k: round(accepted[k] / counts[k], 4) for k in sorted(counts)},
            "ms_per_attempt": round(spent * 1000 / len(rows), 1),
            "refused_by": {k: dict(v) for k, v in sorted(refused_by.items())},
            "accepted": accepted_rows,
        }
