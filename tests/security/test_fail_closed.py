"""Issue 13 item 11: unsafe defaults.

- wsgi, Celery and manage.py must not start a public server with the debug settings
  and their public development key;
- under debug, anonymous /media/… (feed errors files) is not served;
- production refuses the .env.example placeholder key, an unknown SMS transport
  (`htp`) and the console transport; `make check-deploy` passes with real values and
  fails with those.
"""

from __future__ import annotations

import importlib
import os
import secrets
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.urls import clear_url_caches

ROOT = settings.BASE_DIR
ENV_EXAMPLE_KEY = "replace-with-python-c-import-secrets-print-secrets-token-urlsafe-64"
# The process environment minus everything that picks or feeds a settings module.
BARE = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SMS_", "OTP_"))
        and k not in {"DATABASE_URL", "REDIS_URL"}}
PROD = {"DJANGO_SETTINGS_MODULE": "config.settings.production", "DATABASE_URL": "postgres://u@h/db",
        "REDIS_URL": "redis://h:6379/0", "DJANGO_ALLOWED_HOSTS": "portal.example.gov.cn",
        "SMS_GATEWAY_URL": "https://sms.example.gov.cn/send", "SMS_GATEWAY_API_KEY": "k" * 32}


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_wsgi_without_a_settings_module_refuses_to_start_instead_of_running_debug():
    proc = _python("import config.wsgi", BARE)
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr and "DJANGO_SECRET_KEY" in proc.stderr


def test_celery_without_a_settings_module_refuses_to_start_instead_of_running_debug():
    proc = _python("from config.celery import app; import django; django.setup(); print(app.conf.broker_url)", BARE)
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr and "DJANGO_SECRET_KEY" in proc.stderr


def test_manage_py_refuses_to_serve_the_debug_settings_on_a_public_address():
    proc = subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload", "0.0.0.0:8105"],
                            cwd=ROOT, env=BARE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
        pytest.fail("manage.py runserver 0.0.0.0 with the debug settings kept running")
    assert proc.returncode != 0
    assert "loopback" in proc.stderr.read()


def test_the_debug_settings_refuse_a_public_host_name():
    proc = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                          env={**BARE, "DJANGO_ALLOWED_HOSTS": "portal.example.gov.cn"}, timeout=120)
    assert proc.returncode != 0 and "loopback" in proc.stderr


def test_manage_py_still_serves_loopback_for_the_demo():
    proc = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=BARE, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.django_db
def test_anonymous_media_is_not_served_even_under_debug(client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "feeds" / "errors").mkdir(parents=True)
    (tmp_path / "feeds" / "errors" / "batch-8-errors.csv").write_text("line,id_number\n2,370202194510102417\n")
    settings.DEBUG = True
    import config.urls

    try:
        importlib.reload(config.urls)
        clear_url_caches()
        resp = client.get("/media/feeds/errors/batch-8-errors.csv")
        assert resp.status_code == 404
        assert b"370202194510102417" not in resp.content
    finally:
        settings.DEBUG = False
        importlib.reload(config.urls)
        clear_url_caches()


def _check(extra: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env={**BARE, **PROD, **extra}, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("extra", "said"), [
    ({"DJANGO_SECRET_KEY": ENV_EXAMPLE_KEY, "SMS_TRANSPORT": "http"}, "placeholder"),
    ({"DJANGO_SECRET_KEY": secrets.token_urlsafe(64), "SMS_TRANSPORT": "htp"}, "htp"),
    ({"DJANGO_SECRET_KEY": secrets.token_urlsafe(64), "SMS_TRANSPORT": "console"}, "console"),
    ({"DJANGO_SECRET_KEY": secrets.token_urlsafe(64), "SMS_TRANSPORT": "http",
      "SMS_GATEWAY_API_KEY": "replace-me"}, "placeholder"),
], ids=["env-example key", "unknown transport", "console transport", "env-example gateway key"])
def test_production_refuses_placeholders_and_unsafe_sms_transports(extra, said):
    proc = _check(extra)
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr and said in proc.stderr


def test_production_forces_the_second_factor_on():
    proc = _python("import django; django.setup(); from django.conf import settings; print(settings.OTP_REQUIRED)",
                   {**BARE, **PROD, "DJANGO_SECRET_KEY": secrets.token_urlsafe(64), "OTP_REQUIRED": "0"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"


def _make_check_deploy(*overrides: str) -> subprocess.CompletedProcess:
    # -o .venv/.installed: the install step is CI's first step, not this test's.
    return subprocess.run(["make", "-s", "-o", ".venv/.installed", "check-deploy", *overrides], cwd=ROOT,
                          env=BARE, capture_output=True, text=True, timeout=180)


def test_make_check_deploy_is_clean_with_real_values_and_fails_with_placeholders():
    ok = _make_check_deploy()
    assert ok.returncode == 0, ok.stderr
    assert "no issues" in ok.stdout
    assert _make_check_deploy(f"CHECK_SECRET_KEY={ENV_EXAMPLE_KEY}").returncode != 0
    assert _make_check_deploy("CHECK_SMS_TRANSPORT=htp").returncode != 0
    assert _make_check_deploy("CHECK_SMS_TRANSPORT=console").returncode != 0
