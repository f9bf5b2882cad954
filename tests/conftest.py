"""Shared fixtures.

Service tests are marked `services`. On a bare laptop they skip; with
REQUIRE_SERVICES=1 (as .ci/run sets) a missing service makes them fail instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _missing(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def require_postgres(django_db_blocker):  # type: ignore[no-untyped-def]
    """Skip (or fail under REQUIRE_SERVICES=1) unless the test database is PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql":
        _missing("this test needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        _missing("this test needs Redis (set REDIS_URL)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _missing(f"Redis at {url} is not answering: {exc}")
    return url


@pytest.fixture
def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        _missing("Debian's chromium is not installed (apt-get install chromium)")
    return path


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def browser(chromium_path):  # type: ignore[no-untyped-def]
    """A real headless Chromium (Debian's), driven by Playwright."""
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(autouse=True)
def _sms_to_memory(settings, tmp_path):  # type: ignore[no-untyped-def]
    """SMS is the outside world: tests send it to a file they can read back."""
    settings.SMS_TRANSPORT = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")


@pytest.fixture
def sent_sms(settings):  # type: ignore[no-untyped-def]
    """Read back the SMS messages the file transport wrote in this test.

    Sign-in codes leave through a worker and the outbox (issue 13), never inline. Reading
    first does the worker's part for them (sms_code_deliver, then outbox_send), as a worker
    does within a second; other messages are left exactly as the test put them.
    """
    import json

    def read() -> list[dict[str, str]]:
        from certification.signin import sms_code_deliver, sms_codes_pending
        from notifications.models import Message
        from notifications.quiet import IMMEDIATE_TEMPLATES
        from notifications.services import outbox_send

        for sms_code_id in sms_codes_pending():
            sms_code_deliver(sms_code_id=sms_code_id)
        for message_id in Message.objects.filter(template__in=IMMEDIATE_TEMPLATES, status="queued").values_list(
                "id", flat=True):
            outbox_send(message_id=message_id)
        path = Path(settings.SMS_FILE_PATH)
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    return read


def database_url_for_test_db() -> str:
    """A DATABASE_URL that points a subprocess (worker, gunicorn) at pytest's test database."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor != "postgresql":
        _missing("a subprocess can share the test database only on PostgreSQL")
    user = s.get("USER") or "postgres"
    auth = f"{user}:{s['PASSWORD']}@" if s.get("PASSWORD") else f"{user}@"
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db, redis_url, require_postgres, tmp_path):  # type: ignore[no-untyped-def]
    """A REAL Celery worker subprocess on the real Redis, sharing the test database.

    Yields a function `start(queues="default")` so a test can also kill and restart it.
    Each test gets its own queue name suffix so stray workers never steal its tasks.
    """
    import subprocess
    import sys
    import time
    import uuid

    from config.celery import app

    suffix = uuid.uuid4().hex[:8]
    procs: list[subprocess.Popen] = []
    old = {k: app.conf.get(k) for k in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=redis_url, result_backend=redis_url, task_always_eager=False)
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_test_db(),
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "SMS_TRANSPORT": "file",
        "SMS_FILE_PATH": str(tmp_path / "worker-sms.jsonl"),
    }

    def start(queues: str = "default") -> subprocess.Popen:
        qs = ",".join(f"{q}-{suffix}" for q in queues.split(","))
        log = open(tmp_path / f"worker-{len(procs)}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", qs, "-c", "1", "-P", "solo",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"test-{suffix}-{len(procs)}@%h",
             "--loglevel", "INFO"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        procs.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = (tmp_path / f"worker-{len(procs) - 1}.log").read_text(errors="replace")
            if "ready." in text:
                return proc
            if proc.poll() is not None:
                raise RuntimeError("worker exited early:\n" + text[-3000:])
            time.sleep(0.2)
        raise RuntimeError("worker did not become ready in 60 s")

    start.queue = lambda name="default": f"{name}-{suffix}"  # type: ignore[attr-defined]
    start.log_dir = tmp_path  # type: ignore[attr-defined]
    try:
        yield start
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        app.conf.update(**old)


@pytest.fixture(autouse=True)
def _reference_data(request):  # type: ignore[no-untyped-def]
    """Transactional tests flush every table, migration data included: put the reference data back.

    (Qingdao's offices and the evidence sources.) Prefer this to serialized_rollback, which
    collides with the content types a previous flush re-creates.
    """
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    if not (marker or names & {"db", "transactional_db", "live_server", "django_db_reset_sequences"}):
        return
    request.getfixturevalue("transactional_db" if (marker and marker.kwargs.get("transaction")) or "live_server" in names or "transactional_db" in names else "db")
    from bigdata.models import EvidenceSource
    from bigdata.sources import SEED, VERIFY_FIRST
    from certification.models import District, StreetOffice
    from certification.reference_data import load

    if not StreetOffice.objects.exists():
        load(District, StreetOffice)
    if not EvidenceSource.objects.exists():
        for code, name, kind, trust in SEED:
            EvidenceSource.objects.get_or_create(code=code, defaults={"name": name, "kind": kind, "trust_level": trust})
        EvidenceSource.objects.filter(code__in=VERIFY_FIRST).update(death_action="verify")


@pytest.fixture(scope="session", autouse=True)
def _close_stray_test_db_sessions(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Live-server threads and worker subprocesses can leave sessions on the PostgreSQL
    test DB, and then it cannot be dropped at the end. Depending on django_db_setup makes
    this finaliser run just before pytest-django's teardown; it ends those sessions."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()")
