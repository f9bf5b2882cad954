"""Read-only face reads for other pages (the pensioner's home page, the staff detail page).

Added for issue 12 (H6): the home page must not push a face check that cannot run, and
staff must see a pensioner's attempts with their reasons.
"""

from __future__ import annotations

from certification.models import Pensioner

from .models import FaceAttempt, ReferenceFace
from .services import attempts_exhausted


def has_reference(pensioner: Pensioner) -> bool:
    return ReferenceFace.objects.filter(pensioner=pensioner).exists()


def face_check_open(pensioner: Pensioner) -> bool:
    """True when "certify me" can run today: a reference photo, and tries left today."""
    return has_reference(pensioner) and not attempts_exhausted(pensioner)


def attempts_for_staff(pensioner: Pensioner, limit: int = 20) -> list[FaceAttempt]:
    """The latest attempts, newest first, with who ran them (self or a relative)."""
    return list(
        FaceAttempt.objects.filter(pensioner=pensioner).select_related("user").order_by("-created_at", "-id")[:limit]
    )
