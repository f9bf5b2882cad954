"""SMS transports. A transport's notify() raises TransportError(permanent=…) on failure.

The foundation ships console and file; the warning-operations issue adds the
HTTP gateway and the outbox that drives them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

log = logging.getLogger(__name__)


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


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
        with open(settings.SMS_FILE_PATH, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"at": timezone.now().isoformat(), "phone": phone, "text": text}, ensure_ascii=False) + "\n")
        return SendResult(provider_id="file")


_REGISTRY: dict[str, type[Transport]] = {"console": ConsoleTransport, "file": FileTransport}


def register(cls: type[Transport]) -> type[Transport]:
    _REGISTRY[cls.name] = cls
    return cls


def get_transport(name: str | None = None) -> Transport:
    name = name or settings.SMS_TRANSPORT
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise TransportError(f"unknown SMS transport {name!r}", permanent=True) from None
