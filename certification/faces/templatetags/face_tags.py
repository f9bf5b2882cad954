"""`{% face_attempts p %}` for the staff detail page: loaded by name, so the staff app imports nothing of faces."""

from __future__ import annotations

from django import template

from certification.faces.selectors import attempts_for_staff, has_reference

register = template.Library()


@register.inclusion_tag("staff/_face_attempts.html")
def face_attempts(pensioner):  # type: ignore[no-untyped-def]
    return {"attempts": attempts_for_staff(pensioner), "has_reference": has_reference(pensioner)}
