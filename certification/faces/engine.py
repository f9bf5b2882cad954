"""The face engine: decode, detect, landmarks, encodings, liveness, identity.

Pure-ish: bytes and numbers in, a dataclass out; no Django models, no database.
Every upload is decoded once (JPEG DCT-scaled to the working size while it is
decoded), detection runs on a further downscaled copy, landmarks are taken on
every frame (cheap, ~1 ms) and the 128-d encoding (the expensive part, ~60 ms)
only on a few frames.

Mirror convention: frames are the camera's raw, *unmirrored* image, as a
camera facing the person sees them (the page mirrors only its preview). In such
a frame the person's left is the image's right. `yaw` is the nose-tip offset
from the eye midpoint along the image-left→image-right eye line, divided by the
eye distance, so a turn to the person's own left makes yaw positive. A client
that sends mirrored frames must say so (`mirrored=True`), and the sign is flipped.
"""

from __future__ import annotations

import hashlib
import io
import statistics
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from face_recognition import api as fr
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

# face_recognition turns this on at import time; we want truncated uploads rejected.
ImageFile.LOAD_TRUNCATED_IMAGES = False

WORK_MAX_SIDE = 640  # encodings and landmarks are taken at this size (the reference photos' size)
FRAME_DETECT_MAX_SIDE = 320  # HOG on a 320-px copy with 1 upsample: 13 ms vs 53 ms at 640, same hits on the clip
PHOTO_DETECT_MAX_SIDE = 640  # reference photos: group photos have small faces; speed matters less
ENCODED_FRAMES = 3  # identity from the 3 most frontal distinct frames (median distance)

# Shipped tolerance (settings.FACE_TOLERANCE), chosen by measurement (docs/performance.md,
# "Face verification"): on ../shared/faces the largest genuine photo distance is 0.445 and the
# smallest impostor 0.595 (the library default 0.6 accepts biden/1 vs john_savage/6). Webcam
# bursts of the hamilton clip read farther from the reference photo: the burst distance
# (median over the 3 most frontal frames) is at most 0.544 over every 4.5-s window, while an
# impostor's burst distance is at least 0.633. 0.55 passes every measured genuine burst and keeps
# a 0.045 margin below the closest impostor pair.
# (The value lives in settings, FACE_TOLERANCE = 0.55, so that ops can change it without a deploy.)

# Liveness thresholds, measured on the hamilton clip (tests/fixtures/faces/clip/):
# inner-lip ratio at rest or talking 0.02-0.23, wide open 0.31-0.40 (frames 111, 112); yaw at rest |0.1|, turned 0.2-0.3;
# eye aspect ratio open 0.26-0.52, a closed eye is below 0.2 in the literature (Soukupová & Čech 2016).
BLINK_EAR_MAX = 0.21
BLINK_EAR_DROP = 0.08  # below the open-eye level of the same burst
TURN_YAW_MIN = 0.15
TURN_YAW_DELTA = 0.12  # from the least-turned frame of the burst (a head held sideways is not a turn)
MOUTH_OPEN_MIN = 0.28
MOUTH_OPEN_DELTA = 0.18
MIN_DISTINCT_FRAMES = 3  # the same frame repeated is a still picture

PROMPTS = ("blink", "turn_left", "turn_right", "open_mouth")

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}


class UploadRejected(Exception):
    """A bad upload: the HTTP layer answers 400 with `code` and the Chinese `message`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class FaceError(Exception):
    """A photo that cannot serve as a reference: reason is no_face / multiple_faces / unreadable."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_side: int
    max_pixels: int


# ---- decoding ---------------------------------------------------------------

def _trailer_ok(fmt: str, data: bytes) -> bool:
    """A cheap completeness check without decoding: truncated files lack their end marker."""
    if fmt == "JPEG":
        return data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9")
    if fmt == "PNG":
        return data.endswith(b"IEND\xaeB`\x82")
    if fmt == "WEBP":
        return int.from_bytes(data[4:8], "little") + 8 == len(data)
    return False


def _open(data: bytes, limits: UploadLimits) -> Image.Image:
    if not data:
        raise UploadRejected("empty_file", "上传的图片是空的")
    if len(data) > limits.max_bytes:
        raise UploadRejected("file_too_large", "图片文件太大")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected("image_too_large", "图片尺寸过大") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UploadRejected("not_an_image", "上传的文件不是图片") from None
    if im.format not in ALLOWED_FORMATS:
        raise UploadRejected("not_an_image", "只能上传 JPEG 或 PNG 图片")
    w, h = im.size
    if w < 1 or h < 1 or max(w, h) > limits.max_side or w * h > limits.max_pixels:
        raise UploadRejected("image_too_large", "图片尺寸过大")
    if not _trailer_ok(im.format, data):
        raise UploadRejected("truncated", "图片不完整，请重新拍摄")
    return im


def inspect(data: bytes, limits: UploadLimits) -> tuple[str, int, int]:
    """Header-only validation for the web process (no pixel decoding): format, width, height."""
    im = _open(data, limits)
    return im.format or "", im.size[0], im.size[1]


def decode(data: bytes, limits: UploadLimits, *, max_side: int = WORK_MAX_SIDE) -> np.ndarray:
    """Decode once to an RGB array no larger than `max_side`; EXIF rotation applied."""
    im = _open(data, limits)
    try:
        if im.format == "JPEG":
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: a 4000-px ID photo costs little.
            im.draft("RGB", (max_side, max_side))
        im = ImageOps.exif_transpose(im)
        im = im.convert("RGB")
        if max(im.size) > max_side:
            im.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
        return np.asarray(im)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected("image_too_large", "图片尺寸过大") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise UploadRejected("truncated", "图片已损坏，无法读取") from None


# ---- detection, landmarks, encodings -------------------------------------------

def detect(img: np.ndarray, *, detect_max_side: int) -> list:
    """HOG face boxes (dlib rectangles in `img` coordinates), found on a downscaled copy.

    When the small copy shows no face, the full working image is tried once: on the
    hamilton clip the 320-px pass misses 3 of 64 frames that the 640-px pass finds.
    """
    import dlib

    h, w = img.shape[:2]
    scale = min(1.0, detect_max_side / max(h, w))
    small = img
    if scale < 1.0:
        small = np.asarray(Image.fromarray(img).resize((round(w * scale), round(h * scale)), Image.Resampling.BICUBIC))
    rects = fr.face_detector(small, 1)
    if not rects and scale < 1.0:
        scale, rects = 1.0, fr.face_detector(img, 1)
    return [
        dlib.rectangle(int(r.left() / scale), int(r.top() / scale), int(r.right() / scale), int(r.bottom() / scale))
        for r in rects
    ]


def encode(img: np.ndarray, rect) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The library's 128-d encoding (5-point alignment, no jitter), as face_recognition.face_encodings."""
    shape = fr.pose_predictor_5_point(img, rect)
    return np.array(fr.face_encoder.compute_face_descriptor(img, shape, 1))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


def photo_encoding(data: bytes, limits: UploadLimits) -> np.ndarray:
    """The production matcher's reference side: one photo → one encoding, or FaceError."""
    try:
        img = decode(data, limits)
    except UploadRejected as exc:
        raise FaceError("unreadable", exc.message) from None
    rects = detect(img, detect_max_side=PHOTO_DETECT_MAX_SIDE)
    if not rects:
        raise FaceError("no_face", "照片里没有找到人脸")
    if len(rects) > 1:
        raise FaceError("multiple_faces", "照片里有不止一张人脸")
    return encode(img, rects[0])


@dataclass(frozen=True)
class Pose:
    ear: float  # eye aspect ratio, mean of both eyes
    yaw: float  # signed nose offset / eye distance; + is the person's own left (see module doc)
    mouth: float  # inner-lip gap / mouth width


def _ear(p: np.ndarray) -> float:
    return float((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2 * np.linalg.norm(p[0] - p[3]) + 1e-6))


def pose_from_landmarks(pts: np.ndarray) -> Pose:
    """Liveness measures from the 68 iBUG landmarks (x, y)."""
    eye_a, eye_b = pts[36:42], pts[42:48]  # image-left eye, image-right eye
    ca, cb = eye_a.mean(axis=0), eye_b.mean(axis=0)
    eye_dist = float(np.linalg.norm(cb - ca)) + 1e-6
    u = (cb - ca) / eye_dist
    yaw = float(np.dot(pts[33] - (ca + cb) / 2, u) / eye_dist)
    gap = float(np.mean([np.linalg.norm(pts[61 + i] - pts[67 - i]) for i in range(3)]))
    width = float(np.linalg.norm(pts[54] - pts[48])) + 1e-6
    return Pose(ear=(_ear(eye_a) + _ear(eye_b)) / 2, yaw=yaw, mouth=gap / width)


# ---- liveness -------------------------------------------------------------------

def _event_frames(prompt: str, poses: Sequence[Pose]) -> list[int]:
    """Indices of the frames that show `prompt`, relative to the rest of the same burst."""
    if prompt == "blink":
        open_level = max(p.ear for p in poses)
        return [i for i, p in enumerate(poses) if p.ear <= BLINK_EAR_MAX and open_level - p.ear >= BLINK_EAR_DROP]
    if prompt in ("turn_left", "turn_right"):
        sign = 1.0 if prompt == "turn_left" else -1.0
        least = min(sign * p.yaw for p in poses)
        return [i for i, p in enumerate(poses) if sign * p.yaw >= TURN_YAW_MIN and sign * p.yaw - least >= TURN_YAW_DELTA]
    if prompt == "open_mouth":
        least = min(p.mouth for p in poses)
        return [i for i, p in enumerate(poses) if p.mouth >= MOUTH_OPEN_MIN and p.mouth - least >= MOUTH_OPEN_DELTA]
    raise ValueError(f"unknown prompt {prompt!r}")


def liveness(challenge: Sequence[str], poses: Sequence[Pose]) -> tuple[bool, list[int | None]]:
    """Each prompt must be seen, in order: the first frame of prompt k+1 comes after that of prompt k."""
    after = -1
    seen: list[int | None] = []
    for prompt in challenge:
        hits = [i for i in _event_frames(prompt, poses) if i > after]
        if not hits:
            seen.append(None)
            return False, seen + [None] * (len(challenge) - len(seen))
        after = hits[0]
        seen.append(after)
    return True, seen


# ---- one attempt ------------------------------------------------------------------

@dataclass
class Verdict:
    passed: bool
    reason: str  # "" | no_face | multiple_faces | no_liveness | no_match
    distance: float | None = None
    liveness_ok: bool = False
    liveness_frames: list[int | None] = field(default_factory=list)
    frame_count: int = 0
    distinct_frames: int = 0
    poses: list[Pose] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)


def verify(
    frames: Sequence[bytes],
    *,
    reference: np.ndarray,
    challenge: Sequence[str],
    tolerance: float,
    limits: UploadLimits,
    mirrored: bool = False,
    encoded_frames: int = ENCODED_FRAMES,
) -> Verdict:
    """Check one burst: exactly one face per frame, the challenge in order, identity over a few frames.

    Raises UploadRejected when a frame cannot be decoded.
    """
    t0 = time.perf_counter()
    imgs = [decode(b, limits) for b in frames]
    t1 = time.perf_counter()
    digests = [hashlib.blake2b(im.tobytes(), digest_size=16).digest() for im in imgs]
    distinct = len(set(digests))
    rects = [detect(im, detect_max_side=FRAME_DETECT_MAX_SIDE) for im in imgs]
    t2 = time.perf_counter()
    v = Verdict(passed=False, reason="", frame_count=len(imgs), distinct_frames=distinct)
    counts = [len(r) for r in rects]
    if any(c > 1 for c in counts):
        v.reason = "multiple_faces"
    elif not counts or any(c == 0 for c in counts):
        v.reason = "no_face"
    if v.reason:
        v.timings_ms = _ms(decode=t1 - t0, detect=t2 - t1, total=time.perf_counter() - t0)
        return v
    poses = []
    for im, r in zip(imgs, rects, strict=True):
        shape = fr.pose_predictor_68_point(im, r[0])
        pts = np.array([(p.x, p.y) for p in shape.parts()], dtype=float)
        poses.append(pose_from_landmarks(pts))
    if mirrored:
        poses = [Pose(ear=p.ear, yaw=-p.yaw, mouth=p.mouth) for p in poses]
    t3 = time.perf_counter()
    v.poses = poses
    if distinct >= MIN_DISTINCT_FRAMES:
        v.liveness_ok, v.liveness_frames = liveness(challenge, poses)
    else:
        v.liveness_frames = [None] * len(challenge)
    # Identity on the most frontal distinct frames: the reference is a frontal ID photo.
    order = sorted(range(len(imgs)), key=lambda i: abs(poses[i].yaw))
    chosen: list[int] = []
    used: set[bytes] = set()
    for i in order:
        if digests[i] not in used:
            chosen.append(i)
            used.add(digests[i])
        if len(chosen) == encoded_frames:
            break
    dists = [distance(encode(imgs[i], rects[i][0]), reference) for i in chosen]
    v.distance = float(statistics.median(dists))
    t4 = time.perf_counter()
    if not v.liveness_ok:
        v.reason = "no_liveness"
    elif v.distance > tolerance:
        v.reason = "no_match"
    v.passed = not v.reason
    v.timings_ms = _ms(decode=t1 - t0, detect=t2 - t1, landmarks=t3 - t2, encode=t4 - t3, total=t4 - t0)
    return v


def _ms(**seconds: float) -> dict[str, float]:
    return {k: round(s * 1000, 1) for k, s in seconds.items()}
