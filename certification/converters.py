"""URL converters. `<pkey:key>` is a pensioner's opaque public key (DESIGN §4):
staff URLs never carry an ID number, so access logs never hold one."""

from __future__ import annotations

from django.urls import register_converter

from .models import PUBLIC_KEY_LENGTH


class PensionerKeyConverter:
    # Anything else (an ID number, a pk, junk) does not match the route: a 404 before any query.
    regex = f"[0-9a-f]{{{PUBLIC_KEY_LENGTH}}}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PensionerKeyConverter, "pkey")
