"""The HTTP SMS gateway against a real local http.server started by the test (no mock of requests)."""

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest

from notifications.models import Message
from notifications.services import outbox_drain, outbox_enqueue
from notifications.transports import TransportError, get_transport
from tests.factories import PensionerFactory

SH = ZoneInfo("Asia/Shanghai")


class Gateway:
    """A fake SMS provider: answers per phone number, records what it received."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.answers: dict[str, tuple[int, dict]] = {}
        self.slow: set[str] = set()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.received.append({"auth": self.headers.get("Authorization"), **body})
                if body["phone"] in gateway.slow:
                    time.sleep(1.0)
                code, payload = gateway.answers.get(body["phone"], (200, {"id": f"gw-{len(gateway.received)}"}))
                data = json.dumps(payload).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except BrokenPipeError:
                    pass  # the client gave up (the timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def gateway(settings):
    gw = Gateway()
    settings.SMS_TRANSPORT = "http"
    settings.SMS_GATEWAY_URL = gw.url
    settings.SMS_GATEWAY_API_KEY = "test-key"
    settings.SMS_GATEWAY_TIMEOUT = 0.3
    yield gw
    gw.server.shutdown()
    gw.server.server_close()


def test_a_2xx_returns_the_provider_id_and_sends_the_api_key(gateway):
    result = get_transport().notify(phone="13900000001", text="你好")
    assert result.provider_id == "gw-1"
    assert gateway.received == [{"auth": "Bearer test-key", "phone": "13900000001", "text": "你好"}]


def test_5xx_and_timeouts_are_temporary_and_4xx_is_permanent(gateway):
    gateway.answers["13900000005"] = (503, {"error": "busy"})
    gateway.answers["13900000004"] = (400, {"error": "invalid_number"})
    gateway.slow.add("13900000009")
    with pytest.raises(TransportError) as busy:
        get_transport().notify(phone="13900000005", text="x")
    with pytest.raises(TransportError) as slow:
        get_transport().notify(phone="13900000009", text="x")
    with pytest.raises(TransportError) as bad:
        get_transport().notify(phone="13900000004", text="x")
    assert (busy.value.permanent, slow.value.permanent, bad.value.permanent) == (False, False, True)
    assert "timeout" in str(slow.value)
    assert bad.value.invalid_recipient


@pytest.mark.django_db
def test_a_temporary_failure_is_retried_with_backoff_and_then_sent(gateway, time_machine):
    start = dt.datetime(2026, 11, 30, 10, 0, tzinfo=SH)
    time_machine.move_to(start, tick=False)
    p = PensionerFactory(phone="13900000005")
    gateway.answers["13900000005"] = (502, {"error": "upstream"})
    outbox_enqueue(phone=p.phone, template="staff_message", context={"text": "a"}, dedup_key="t1",
                   pensioner_id=p.pk)
    assert outbox_drain()["failed"] == 1
    msg = Message.objects.get()
    assert (msg.status, msg.attempts) == (Message.Status.FAILED, 1)
    assert msg.next_attempt_at == start + dt.timedelta(seconds=60)
    assert outbox_drain()["sent"] == 0  # not due yet: backoff
    time_machine.move_to(start + dt.timedelta(seconds=61), tick=False)
    outbox_drain()
    msg.refresh_from_db()
    assert (msg.attempts, msg.next_attempt_at) == (2, start + dt.timedelta(seconds=61 + 120))  # doubled
    del gateway.answers["13900000005"]
    time_machine.move_to(start + dt.timedelta(seconds=200), tick=False)
    assert outbox_drain()["sent"] == 1
    msg.refresh_from_db()
    assert (msg.status, msg.attempts, msg.provider_id) == (Message.Status.SENT, 3, "gw-3")
    p.refresh_from_db()
    assert p.phone_invalid is False


@pytest.mark.django_db
def test_a_rejected_number_fails_permanently_and_marks_the_phone_invalid(gateway, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 30, 10, 0, tzinfo=SH), tick=False)
    p = PensionerFactory(phone="13900000004")
    gateway.answers["13900000004"] = (422, {"error": "invalid_number"})
    outbox_enqueue(phone=p.phone, template="staff_message", context={"text": "a"}, dedup_key="t2",
                   pensioner_id=p.pk)
    assert outbox_drain()["permanently_failed"] == 1
    time_machine.move_to(dt.datetime(2026, 11, 30, 18, 0, tzinfo=SH), tick=False)
    assert outbox_drain()["sent"] == 0 and len(gateway.received) == 1  # never retried
    p.refresh_from_db()
    assert p.phone_invalid is True
    assert p.audit_rows.filter(action="phone_invalid").exists()


@pytest.mark.django_db
def test_after_max_attempts_a_temporary_failure_becomes_permanent(gateway, settings, time_machine):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    time_machine.move_to(dt.datetime(2026, 11, 30, 10, 0, tzinfo=SH), tick=False)
    gateway.answers["13900000005"] = (500, {})
    outbox_enqueue(phone="13900000005", template="staff_message", context={"text": "a"}, dedup_key="t3")
    outbox_drain()
    time_machine.move_to(dt.datetime(2026, 11, 30, 11, 0, tzinfo=SH), tick=False)
    outbox_drain()
    assert Message.objects.get().status == Message.Status.PERMANENTLY_FAILED
