"""{% load staff_tags %}{% pensioner_appointments pensioner %} — for the pensioner's home page."""

from __future__ import annotations

from django import template

from certification.models import Pensioner

from ..selectors import appointments_for

register = template.Library()


@register.inclusion_tag("staff/_appointments.html")
def pensioner_appointments(pensioner: Pensioner) -> dict[str, object]:
    return appointments_for(pensioner)
