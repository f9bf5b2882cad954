"""Replay memory: perceptual hashes of the frames of every sequence submitted in the last
FACE_REPLAY_DAYS, for anyone. The same frames sent again, exactly or re-encoded, are refused;
a different framing of a performance is not a replay (the prompts stop re-filmed recordings)."""

import io

import numpy as np
from PIL import Image

from certification.faces import engine, services
from certification.faces.models import FrameHash

from .conftest import clip_frames, send_attempt


def _reencode(data: bytes, *, quality: int = 60, scale: float = 0.8) -> bytes:
    im = Image.open(io.BytesIO(data)).convert("RGB")
    im = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _crop(data: bytes, frac: float = 0.12) -> bytes:
    im = Image.open(io.BytesIO(data)).convert("RGB")
    dx, dy = round(im.width * frac), round(im.height * frac)
    out = io.BytesIO()
    im.crop((dx, dy, im.width, im.height)).save(out, "JPEG", quality=90)
    return out.getvalue()


def _hashes(frames: list[bytes]) -> list[int]:
    limits = services.frame_limits()
    return [engine.phash(engine.decode(f, limits)) for f in frames]


def test_the_same_frames_sent_to_a_second_session_are_refused_as_a_replay(
        pensioner, pensioner_user, enrol, fixed_challenge, relative_user):
    enrol(pensioner)
    first = send_attempt(pensioner_user, pensioner, clip_frames())
    assert first.passed is True
    assert FrameHash.objects.filter(attempt=first).count() == 12
    second = send_attempt(pensioner_user, pensioner, clip_frames())
    assert (second.passed, second.reason) == (False, "replay")
    assert second.liveness_detail["replay_of"] == first.pk
    assert "以前提交过" in services.verdict_for(second).message


def test_re_encoded_frames_match_their_originals_and_a_different_framing_does_not():
    frames = clip_frames()
    original = _hashes(frames)
    again = _hashes([_reencode(f) for f in frames])
    reframed = _hashes([_crop(f) for f in frames])
    assert max(engine.hamming(a, b) for a, b in zip(original, again, strict=True)) <= engine.PHASH_MATCH_BITS
    assert engine.replay_share(again, original) == 1.0
    assert engine.replay_share(reframed, original) < engine.REPLAY_SHARE
    memory = engine.InMemoryReplayMemory()
    memory.remember("first", original)
    assert engine.replay_find(again, memory) == "first"
    assert engine.replay_find(reframed, memory) is None


def test_the_database_memory_finds_a_re_encoded_sequence_by_its_hash_bands(pensioner, pensioner_user, enrol):
    enrol(pensioner)
    consent = services.consent_record(user=pensioner_user, pensioner=pensioner, mode="self")
    attempt = services.session_start(user=pensioner_user, consent=consent).attempt
    frames = clip_frames()
    memory = services.DatabaseReplayMemory()
    memory.remember(attempt.pk, _hashes(frames))
    assert engine.replay_find(_hashes([_reencode(f) for f in frames]), memory) == attempt.pk
    rng = np.random.default_rng(1)
    noise = [int(x) for x in rng.integers(-(2**63), 2**63 - 1, size=12)]
    assert engine.replay_find(noise, memory) is None


def test_a_replay_cut_or_reordered_to_suit_a_new_schedule_is_still_a_replay():
    h = _hashes(clip_frames())
    assert engine.replay_share(h[::-1], h) == 1.0
    assert engine.replay_share(h[:8], h) == 1.0
    padded = h[:6] + _hashes([_crop(f) for f in clip_frames()[:6]])  # half old frames, half new
    assert engine.replay_share(padded, h) >= engine.REPLAY_SHARE
