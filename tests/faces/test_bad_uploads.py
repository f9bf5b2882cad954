"""Every kind of bad upload gets HTTP 400 with a code and a Chinese message, never a 500,
and a rejected upload does not spend the session."""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from .conftest import clip_frames


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def decompression_bomb() -> bytes:
    """A ~20 KB PNG that decodes to 12000 × 12000 pixels (144 megapixels)."""
    w = h = 12000
    row = b"\x00" + b"\x00" * (w // 8)  # filter byte + 1-bit pixels
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(h)) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0))
            + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b""))


def wide_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (3000, 40)).save(out, "PNG")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64)).save(out, "GIF")
    return out.getvalue()


@pytest.fixture
def session_url(client, pensioner, pensioner_user, enrol):  # type: ignore[no-untyped-def]
    enrol(pensioner)
    client.force_login(pensioner_user)
    r = client.post("/api/v1/faces/sessions/", {"mode": "self", "consent": True}, content_type="application/json")
    assert r.status_code == 201, r.content
    return r.json()["frames_url"]


def _post(client, url, frames):  # type: ignore[no-untyped-def]
    files = [SimpleUploadedFile(f"f{i}.jpg", b, content_type="image/jpeg") for i, b in enumerate(frames)]
    return client.post(url, {"frames": files} if files else {})


GOOD = clip_frames()


@pytest.mark.parametrize(
    ("kind", "frames", "code"),
    [
        ("zero frames", [], "no_frames"),
        ("a chunk over the chunk limit", GOOD[:11], "too_many_frames"),
        ("a decompression bomb", GOOD[:2] + [decompression_bomb()], "image_too_large"),
        ("a truncated JPEG", GOOD[:2] + [GOOD[5][: len(GOOD[5]) // 2]], "truncated"),
        ("not an image", GOOD[:2] + [b"%PDF-1.4 this is not a picture"], "not_an_image"),
        ("an empty file", GOOD[:2] + [b""], "empty_file"),
        ("a GIF", GOOD[:2] + [gif()], "not_an_image"),
        ("pixel dimensions over the limit", GOOD[:2] + [wide_png()], "image_too_large"),
    ],
)
def test_bad_upload_is_a_400_with_a_chinese_message(client, session_url, kind, frames, code):
    r = _post(client, session_url, frames)
    assert r.status_code == 400, (kind, r.status_code, r.content[:300])
    body = r.json()
    assert body["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body


def test_more_frames_than_an_attempt_may_hold_is_a_400(client, session_url, settings):
    settings.FACE_MAX_FRAMES = 8
    assert [_post(client, session_url, GOOD[:4]).status_code for _ in range(2)] == [202, 202]
    r = _post(client, session_url, GOOD[:1])
    assert (r.status_code, r.json()["code"]) == (400, "too_many_frames")


def test_finishing_with_too_few_frames_is_a_400_and_the_session_stays_open(client, session_url):
    _post(client, session_url, GOOD[:2])
    r = client.post(session_url, {"done": "1"})
    assert (r.status_code, r.json()["code"]) == (400, "too_few_frames")
    assert _post(client, session_url, GOOD[2:4]).status_code == 202


def test_a_frame_over_the_byte_limit_is_a_400(client, session_url, settings):
    settings.FACE_MAX_FRAME_BYTES = 10_000
    r = _post(client, session_url, GOOD[:3])
    assert (r.status_code, r.json()["code"]) == (400, "file_too_large")


def test_a_rejected_chunk_is_not_stored_and_the_session_stays_usable(client, session_url):
    from certification.faces.models import FaceAttempt

    assert _post(client, session_url, [b"junk"] * 3).status_code == 400
    assert FaceAttempt.objects.get().frame_count == 0
    r = _post(client, session_url, GOOD[:3])
    assert (r.status_code, r.json()) == (202, {"received": 3})


def test_a_decompression_bomb_is_also_refused_as_a_reference_photo(pensioner):
    from certification.faces import engine, services

    with pytest.raises(engine.FaceError) as exc:
        services.reference_enroll(pensioner=pensioner, image=decompression_bomb(), source="command")
    assert exc.value.reason == "unreadable"


def test_an_oversized_body_is_refused_before_it_is_parsed(client, session_url, settings):
    settings.FACE_MAX_UPLOAD_BYTES = 50_000
    r = _post(client, session_url, GOOD[:10])  # ~120 KB, well over 50 KB + slack
    assert (r.status_code, r.json()["code"]) == (400, "upload_too_large")


@pytest.mark.parametrize("csrf_checked", [False, True])
def test_120_frames_in_one_request_is_a_400_with_a_message_not_a_500(client, session_url, pensioner_user, csrf_checked):
    # With CSRF enforced (the browser's path) Django raises while DRF's CSRF check reads the body.
    from django.test import Client

    c = client
    if csrf_checked:
        c = Client(enforce_csrf_checks=True)
        c.force_login(pensioner_user)
        c.cookies["csrftoken"] = "a" * 32  # a cookie, so the check goes on to read the body
    r = _post(c, session_url, [GOOD[0]] * 120)  # over DATA_UPLOAD_MAX_NUMBER_FILES (100)
    assert r.status_code == 400, r.content[:300]
    assert r.json()["code"] == "too_many_frames" and "照片太多" in r.json()["message"]
