"""Production settings fail loudly without their variables, and pass check --deploy with them."""

import os
import secrets
import subprocess
import sys

from django.conf import settings

BASE = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"}}


def run_check(extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**BASE, "DJANGO_SETTINGS_MODULE": "config.settings.production", **extra}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )


def test_missing_variables_are_named_in_the_error():
    proc = run_check({})
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr
    for name in ("DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOWED_HOSTS"):
        assert name in proc.stderr


def test_a_weak_secret_key_is_refused():
    proc = run_check({"DJANGO_SECRET_KEY": "short", "DATABASE_URL": "postgres://u@h/db",
                      "REDIS_URL": "redis://h:6379/0", "DJANGO_ALLOWED_HOSTS": "portal.example.gov.cn",
                      "SMS_TRANSPORT": "console"})
    assert proc.returncode != 0 and "at least 50 characters" in proc.stderr


def test_http_sms_needs_its_gateway_settings():
    proc = run_check({"DJANGO_SECRET_KEY": secrets.token_urlsafe(64), "DATABASE_URL": "postgres://u@h/db",
                      "REDIS_URL": "redis://h:6379/0", "DJANGO_ALLOWED_HOSTS": "portal.example.gov.cn"})
    assert proc.returncode != 0 and "SMS_GATEWAY_URL" in proc.stderr


def test_check_deploy_passes_with_the_variables_set():
    proc = run_check({"DJANGO_SECRET_KEY": secrets.token_urlsafe(64), "DATABASE_URL": "postgres://u@h/db",
                      "REDIS_URL": "redis://h:6379/0", "DJANGO_ALLOWED_HOSTS": "portal.example.gov.cn",
                      "SMS_TRANSPORT": "http", "SMS_GATEWAY_URL": "https://sms.example.gov.cn/send",
                      "SMS_GATEWAY_API_KEY": "k" * 32})
    assert proc.returncode == 0, proc.stderr
    assert "System check identified no issues" in proc.stdout
