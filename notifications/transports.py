"""SMS transports. A transport's notify() raises TransportError(permanent=…) on failure.

console and file are for dev; http is the production SMS gateway. The outbox
(notifications.services) drives them and decides about retries from `permanent`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from certification.private_files import open_private

log = logging.getLogger(__name__)


class TransportError(Exception):
    """`permanent`: retrying cannot help. `invalid_recipient`: the number itself is bad."""

    def __init__(self, message: str, *, permanent: bool = False, invalid_recipient: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.invalid_recipient = invalid_recipient


@dataclass(frozen=True)
class SendResult:
    provider_id: str = ""


class Transport:
    name = "base"

    def notify(self, *, phone: str, text: str) -> SendResult:
        raise NotImplementedError


class ConsoleTransport(Transport):
    name = "console"

    def notify(self, *, phone: str, text: str) -> SendResult:
        print(f"[SMS to {phone}] {text}", flush=True)  # noqa: T201 - the dev transport prints
        return SendResult(provider_id="console")


class FileTransport(Transport):
    name = "file"

    def notify(self, *, phone: str, text: str) -> SendResult:
        # Owner-only (0600): every line holds a phone number and the message (DESIGN §7).
        with open_private(settings.SMS_FILE_PATH, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"at": timezone.now().isoformat(), "phone": phone, "text": text}, ensure_ascii=False) + "\n")
        return SendResult(provider_id="file")


class HttpGatewayTransport(Transport):
    """The production SMS gateway: a JSON POST with an API key, under a timeout.

    Contract: POST {"phone", "text"} to SMS_GATEWAY_URL with header
    `Authorization: Bearer <SMS_GATEWAY_API_KEY>`; 2xx answers {"id": …}.
    - 5xx, 429, a timeout or a refused connection: temporary, the outbox retries.
    - 401/403: our key or account is wrong. Temporary on purpose: once ops fix the
      key, the waiting rows go out instead of being thrown away.
    - any other 4xx (400/404/422 …): the gateway rejects this number. Permanent,
      and the outbox marks the pensioner's phone invalid for the staff queue.
    """

    name = "http"

    def notify(self, *, phone: str, text: str) -> SendResult:
        import requests

        url, key = settings.SMS_GATEWAY_URL, settings.SMS_GATEWAY_API_KEY
        if not url or not key:
            # Misconfiguration is not the message's fault: keep it queued for retry.
            raise TransportError("SMS_GATEWAY_URL / SMS_GATEWAY_API_KEY not set")
        try:
            resp = requests.post(
                url,
                json={"phone": phone, "text": text},
                headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
                timeout=settings.SMS_GATEWAY_TIMEOUT,
            )
        except requests.Timeout:
            raise TransportError(f"gateway timeout after {settings.SMS_GATEWAY_TIMEOUT}s") from None
        except requests.RequestException as exc:
            raise TransportError(f"gateway unreachable: {type(exc).__name__}") from None
        body = resp.text[:200]
        if resp.status_code >= 500 or resp.status_code in (401, 403, 408, 429):
            raise TransportError(f"gateway HTTP {resp.status_code}: {body}")
        if resp.status_code >= 400:
            raise TransportError(f"gateway rejected number, HTTP {resp.status_code}: {body}",
                                 permanent=True, invalid_recipient=True)
        try:
            provider_id = str(resp.json().get("id", ""))
        except ValueError:
            provider_id = ""
        return SendResult(provider_id=provider_id[:128])


_REGISTRY: dict[str, type[Transport]] = {
    "console": ConsoleTransport,
    "file": FileTransport,
    "http": HttpGatewayTransport,
}


def register(cls: type[Transport]) -> type[Transport]:
    _REGISTRY[cls.name] = cls
    return cls


def get_transport(name: str | None = None) -> Transport:
    name = name or settings.SMS_TRANSPORT
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise TransportError(f"unknown SMS transport {name!r}", permanent=True) from None
