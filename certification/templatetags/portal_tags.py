"""Small read-only helpers for the portal's templates (issue 12).

Staff pages show evidence sources by name, never the raw code (`hospital`), and a
pensioner's back-pay after a counter restoration. The big-data source registry is read
through the app registry: the core imports no leaf.
"""

from __future__ import annotations

from django import template
from django.apps import apps
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag
def source_labels() -> dict[str, str]:
    """{code: name in the page language}; empty without the big-data app."""
    if not apps.is_installed("bigdata"):
        return {}
    source = apps.get_model("bigdata", "EvidenceSource")
    return {code: gettext(name) for code, name in source.objects.values_list("code", "name")}


@register.filter
def label_of(labels: dict[str, str], code: str) -> str:
    return labels.get(code, code) if code else ""


@register.inclusion_tag("certification/_back_pay.html")
def back_pay_list(pensioner, limit: int = 5):  # type: ignore[no-untyped-def]
    """The latest back-pay statements with their months, newest first."""
    return {"back_pays": pensioner.back_pays.prefetch_related("lines").order_by("-restored_on", "-id")[:limit]}
