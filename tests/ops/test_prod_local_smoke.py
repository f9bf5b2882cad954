"""`make prod-local` smoke test: gunicorn + two Celery workers + beat with production settings.

Drives scripts/prod_local.sh against the machine's PostgreSQL and Redis (a database of
its own, `<DATABASE_URL name>_prodlocal`), then checks /healthz, a page, a Celery round
trip through each queue, JSON logs, and a 503 when Redis is unreachable.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import _missing

pytestmark = [pytest.mark.services, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("PROD_LOCAL_TEST_PORT", "8511"))


@pytest.fixture(scope="module")
def prod_env(tmp_path_factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    db, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not db.startswith("postgres") or not redis_url:
        _missing("prod-local needs DATABASE_URL (PostgreSQL) and REDIS_URL")
    run_dir = tmp_path_factory.mktemp("prod-local")
    base, _, name = db.rpartition("/")
    return {
        **os.environ,
        "DATABASE_URL": f"{base}/{name.split('?')[0]}_prodlocal",
        "REDIS_URL": redis_url,
        "PROD_LOCAL_PORT": str(PORT),
        "PROD_LOCAL_DIR": str(run_dir),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    }


@pytest.fixture(scope="module")
def prod_local(prod_env):  # type: ignore[no-untyped-def]
    script = str(ROOT / "scripts" / "prod_local.sh")
    started = subprocess.run([script, "start"], env=prod_env, capture_output=True, text=True, timeout=240)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield f"http://127.0.0.1:{PORT}"
    finally:
        subprocess.run([script, "stop"], env=prod_env, capture_output=True, text=True, timeout=120)


def _celery(prod_env: dict[str, str], code: str) -> dict:
    env = {**prod_env, "DJANGO_SETTINGS_MODULE": "config.settings.production", "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
           "SMS_TRANSPORT": "file"}
    proc = subprocess.run([sys.executable, "-c", "import django, json; django.setup()\n" + code],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_healthz_is_200_with_database_and_redis_ok(prod_local):
    response = requests.get(f"{prod_local}/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_a_page_is_served_with_production_settings(prod_local):
    response = requests.get(f"{prod_local}/login/", timeout=10)
    assert response.status_code == 200
    assert "登录" in response.text
    # Static files come from whitenoise's manifest storage (hashed names), not Django's dev server.
    css = next(part.split('"')[0] for part in response.text.split('href="')[1:] if part.startswith("/static/"))
    assert "portal." in css and requests.get(prod_local + css, timeout=10).status_code == 200


def test_celery_round_trip_through_the_default_and_face_workers(prod_local, prod_env):
    result = _celery(prod_env, (
        "from certification.tasks import ping\n"
        "a = ping.delay(41).get(timeout=60)\n"
        "b = ping.apply_async((42,), queue='face').get(timeout=60)\n"
        "print(json.dumps({'default': a, 'face': b}))"
    ))
    assert result["default"]["value"] == 41 and result["face"]["value"] == 42
    assert result["default"]["districts"] == 10
    face_log = Path(prod_env["PROD_LOCAL_DIR"], "worker-face.log").read_text()
    assert "certification.ping" in face_log and "succeeded" in face_log


def test_beat_runs_with_the_database_scheduler(prod_local, prod_env):
    log = Path(prod_env["PROD_LOCAL_DIR"], "beat.log").read_text()
    assert "DatabaseScheduler" in log


def test_django_logs_are_json_lines(prod_local, prod_env):
    requests.get(f"{prod_local}/no-such-page-for-the-log", timeout=10)
    lines = Path(prod_env["PROD_LOCAL_DIR"], "web.log").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(r["name"] == "django.request" and "no-such-page-for-the-log" in r["message"] for r in records)
    assert all({"asctime", "levelname", "name", "message"} <= set(r) for r in records)

