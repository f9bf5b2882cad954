"""evaluate_liveness --manifest CSV (DESIGN §4): the production decision on recorded attempts, with one
replay memory across rows; the attack set itself is built by tests/fixtures/faces/build_liveness_set.py
(figures in docs/performance.md). Here: a tiny manifest made from the committed clip frames."""

import csv
import json
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from .conftest import CLIP, FACES


def _manifest(tmp_path, rows):  # type: ignore[no-untyped-def]
    clip = tmp_path / "clip"
    clip.mkdir()
    for i, f in enumerate(sorted(CLIP.glob("*.jpg"))):
        shutil.copy(f, clip / f"{i:03d}.jpg")
    still = tmp_path / "still"
    still.mkdir()
    for i in range(6):
        shutil.copy(sorted(CLIP.glob("*.jpg"))[6], still / f"{i:03d}.jpg")
    shutil.copy(FACES / "lin_manuel_miranda_1.jpg", tmp_path / "ref.jpg")
    path = tmp_path / "manifest.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sequence", "reference", "prompts", "label"])
        w.writerows(rows)
    return path


def test_the_clip_passes_and_a_still_and_a_replay_of_it_are_refused(tmp_path, capsys):
    path = _manifest(tmp_path, [
        ["still", "ref.jpg", "turn_right@1;open_mouth@3", "still"],  # first: later it would also be a replay
        ["clip", "ref.jpg", "turn_right@2;open_mouth@7", "bona_fide"],
        ["clip", "ref.jpg", "turn_right@2;open_mouth@7", "replay"],  # the same frames again
    ])
    call_command("evaluate_liveness", "--manifest", str(path))
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {k: out[k] for k in ("bona_fide", "attacks", "bpcer", "apcer", "apcer_by_attack")} == {
        "bona_fide": 1, "attacks": 2, "bpcer": 0.0, "apcer": 0.0, "apcer_by_attack": {"replay": 0.0, "still": 0.0}}
    assert out["refused_by"] == {"replay": {"replay": 1}, "still": {"no_liveness": 1}}
    assert out["ms_per_attempt"] > 0


def test_a_bad_prompts_cell_names_its_row(tmp_path):
    path = _manifest(tmp_path, [["clip", "ref.jpg", "turn_right@2;open_mouth@7", "bona_fide"],
                                ["clip", "ref.jpg", "blink@2", "still"]])
    with pytest.raises(CommandError, match="第 3 行"):
        call_command("evaluate_liveness", "--manifest", str(path))
