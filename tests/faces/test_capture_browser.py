"""The real "certify me" and "certify someone else" pages in headless Chromium, with a fake camera.

The camera is Chromium's fake capture device fed from a .y4m file that ffmpeg builds at
test time from the committed clip frames (tests/fixtures/faces/clip/, 12 real frames of
the hamilton clip in time order, played at 4 fps and looped by Chromium: one turn to the
right, back to the front and a second turn to the right every 3 s). The page opens a session,
polls the server for the prompt of the moment, shows and speaks it, sends frames in chunks as it
captures them and lands on the verdict page. The server's schedule is pinned to what the looping
clip honestly answers, two head turns as production issues them: turn_right at 1.5 s and turn_right
again at 6 s, each followed by a whole loop within the 4-s response window; production draws the
sides and the moments at random.
A still-photo stream (one frame repeated) must end in "liveness not shown".

Screenshots of every step go to $FACE_SCREENSHOTS (default: the test's tmp dir), 375 px wide.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from certification.models import Certification
from tests.conftest import CHROMIUM_ARGS, _missing

from .conftest import CLIP

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _y4m(tmp_path: Path, frames: list[Path], fps: int = 4) -> Path:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        _missing("ffmpeg is needed to build the fake camera stream")
    src = tmp_path / "y4m_src"
    src.mkdir()
    for i, f in enumerate(frames):
        shutil.copy(f, src / f"{i:03d}.jpg")
    out = tmp_path / "camera.y4m"
    subprocess.run([ffmpeg, "-loglevel", "error", "-y", "-framerate", str(fps), "-i", str(src / "%03d.jpg"),
                    "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", str(out)], check=True)
    return out


@pytest.fixture
def shots(tmp_path):  # type: ignore[no-untyped-def]
    folder = Path(os.environ.get("FACE_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def camera_page(chromium_path, live_server, client):  # type: ignore[no-untyped-def]
    """Open a 375-px page signed in as `user`, with the fake camera playing `y4m`."""
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pw = sync_playwright().start()
    browsers = []

    def open_page(user, y4m: Path):  # type: ignore[no-untyped-def]
        b = pw.chromium.launch(executable_path=chromium_path, headless=True, args=[
            *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={y4m}", "--autoplay-policy=no-user-gesture-required",
        ])
        browsers.append(b)
        ctx = b.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
        client.force_login(user)
        ctx.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        return page

    yield open_page
    for b in browsers:
        b.close()
    pw.stop()


BROWSER_SCHEDULE = [{"kind": "turn_right", "at_ms": 1500}, {"kind": "turn_right", "at_ms": 6000}]


@pytest.fixture
def browser_schedule(fixed_challenge, chunk_worker):  # type: ignore[no-untyped-def]
    fixed_challenge(BROWSER_SCHEDULE, 10_500)


@pytest.fixture
def chunk_worker(monkeypatch):  # type: ignore[no-untyped-def]
    """Chunks are analysed off the request, by one worker thread in arrival order, as the `face`
    queue's worker does in production. The tests here run Celery eagerly (conftest), which would
    analyse each chunk inside its upload request: on a loaded machine the page's uploads then queue
    up behind the analysis, the server stamps frames seconds after they were captured, and the
    stamps no longer say when the person moved. The decision still analyses whatever the worker has
    not reached (services._read_infos).

    One lock around the library calls: a production worker is a process that runs one analysis at a
    time, while here the worker thread and the request deciding the attempt share one dlib detector,
    and dlib used from two threads at once reads spurious faces (seen as `multiple_faces`)."""
    import functools
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from certification.faces import engine, services

    lock = threading.Lock()
    for name in ("analyse", "encode"):
        real = getattr(engine, name)

        def one_at_a_time(*args, _real=real, **kwargs):  # type: ignore[no-untyped-def]
            with lock:
                return _real(*args, **kwargs)

        monkeypatch.setattr(engine, name, functools.wraps(real)(one_at_a_time))
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="face-chunks")

    def analyse(attempt_id: int, first: int, count: int) -> None:
        try:
            services.chunk_analyse(attempt_id=attempt_id, first=first, count=count)
        finally:
            connection.close()

    monkeypatch.setattr(services, "_chunk_dispatch", lambda a, f, c: pool.submit(analyse, a, f, c))
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


def _attempt_facts(pensioner) -> str:  # type: ignore[no-untyped-def]
    """What the server decided, for the failure message (reason, distance, liveness, arrivals)."""
    from certification.faces.models import FaceAttempt

    a = FaceAttempt.objects.filter(pensioner=pensioner).order_by("-created_at").first()
    if a is None:
        return "no attempt"
    return json.dumps({"state": a.state, "reason": a.reason, "distance": a.distance, "liveness": a.liveness_detail,
                       "frames": a.frame_count, "arrivals_ms": a.arrivals_ms, "timings_ms": a.timings_ms})


def _capture_to_verdict(page, shots: Path, prefix: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector('#face-capture[data-stage="ready"]')
    page.screenshot(path=str(shots / f"{prefix}-2-camera.png"), full_page=True)
    page.click("#face-start")
    page.wait_for_selector("#face-prompt:not([hidden])")
    page.wait_for_selector('#face-capture[data-step="1"]', timeout=15_000)  # learnt by polling, not sent ahead
    assert page.locator("#face-prompt").inner_text() == "请慢慢向右转头"
    page.screenshot(path=str(shots / f"{prefix}-3-prompt1.png"), full_page=True)
    page.wait_for_selector('#face-capture[data-step="2"]', timeout=15_000)
    assert page.locator("#face-prompt").inner_text() == "请慢慢向右转头"
    assert page.locator("#face-step").inner_text().startswith("第 2 步")
    page.screenshot(path=str(shots / f"{prefix}-4-prompt2.png"), full_page=True)
    # The server may decide before the page shows "正在核验" (a refused replay or still ends the
    # attempt as soon as a chunk shows it), so the uploading stage is not waited for.
    if page.locator("#face-uploading:not([hidden])").count():
        page.screenshot(path=str(shots / f"{prefix}-5-uploading.png"), full_page=True)
    # Generous: on a loaded 2-core machine the decision (and any chunk the worker has not reached yet)
    # can take tens of seconds; the time to a verdict is measured by benchmark_faces, not here.
    page.wait_for_url("**/face/result/**", timeout=120_000)
    page.screenshot(path=str(shots / f"{prefix}-6-verdict.png"), full_page=True)


def test_certify_me_in_chromium_with_a_real_moving_face_passes_and_shows_the_new_valid_until(
        camera_page, live_server, pensioner, pensioner_user, enrol, browser_schedule, shots, tmp_path):
    enrol(pensioner)
    page = camera_page(pensioner_user, _y4m(tmp_path, sorted(CLIP.glob("*.jpg"))))
    page.goto(f"{live_server.url}/face/")
    page.screenshot(path=str(shots / "self-1-consent.png"), full_page=True)
    page.click("#face-agree")
    _capture_to_verdict(page, shots, "self")
    verdict = page.locator("#face-verdict")
    assert verdict.get_attribute("data-status") == "passed", _attempt_facts(pensioner)
    pensioner.refresh_from_db()
    assert pensioner.valid_until.strftime("%Y年") in page.locator("#face-valid-until").inner_text()
    assert Certification.objects.get(pensioner=pensioner).method == "face_self"


def test_certify_me_with_a_still_photo_stream_ends_in_liveness_not_shown(
        camera_page, live_server, pensioner, pensioner_user, enrol, browser_schedule, shots, tmp_path):
    enrol(pensioner)
    still = sorted(CLIP.glob("*.jpg"))[6]
    page = camera_page(pensioner_user, _y4m(tmp_path, [still] * 4))
    page.goto(f"{live_server.url}/face/")
    page.click("#face-agree")
    _capture_to_verdict(page, shots, "still")
    verdict = page.locator("#face-verdict")
    assert verdict.get_attribute("data-status") == "failed"
    assert verdict.get_attribute("data-reason") == "no_liveness"
    assert "没有看到要求的动作" in page.locator("#face-reason").inner_text()
    assert page.locator("#face-retry").is_visible() and page.locator("#other-channels").is_visible()
    assert not Certification.objects.filter(pensioner=pensioner).exists()


def test_certify_someone_else_in_chromium_passes_and_is_recorded_as_proxy(
        camera_page, live_server, pensioner, relative_user, enrol, browser_schedule, shots, tmp_path):
    enrol(pensioner)
    page = camera_page(relative_user, _y4m(tmp_path, sorted(CLIP.glob("*.jpg"))))
    page.goto(f"{live_server.url}/face/proxy/")
    page.screenshot(path=str(shots / "proxy-0-form.png"), full_page=True)
    page.fill("#id_id_number", pensioner.id_number)
    page.fill("#id_name", "别人")
    page.check("#id_agree")
    page.click("#proxy-next")
    page.wait_for_selector("#proxy-error")
    page.screenshot(path=str(shots / "proxy-1-mismatch.png"), full_page=True)
    page.fill("#id_id_number", pensioner.id_number)
    page.fill("#id_name", pensioner.name)
    page.select_option("#id_relationship", "子女")
    page.check("#id_agree")
    page.screenshot(path=str(shots / "proxy-1-form-filled.png"), full_page=True)
    page.click("#proxy-next")
    _capture_to_verdict(page, shots, "proxy")
    assert page.locator("#face-verdict").get_attribute("data-status") == "passed", _attempt_facts(pensioner)
    cert = Certification.objects.get(pensioner=pensioner)
    assert (cert.method, cert.helper_id, cert.helper_relationship) == ("face_proxy", relative_user.pk, "子女")
