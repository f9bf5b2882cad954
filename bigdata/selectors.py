"""Reads for the big-data pages: source names, and office-scoped fraud alerts and overpayments."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext

from certification.models import Overpayment, User
from certification.selectors import pensioners_visible_to

from .models import EvidenceBatch, EvidenceSource, FraudAlert


def source_labels() -> dict[str, str]:
    """code → name in the page language (stored Chinese, translated when in the catalogue)."""
    return {code: gettext(name) for code, name in EvidenceSource.objects.values_list("code", "name")}


def source_label(code: str) -> str:
    """The Chinese name of a source code, e.g. hospital → 医院住院/出院记录; the code itself if unknown."""
    if not code:
        return ""
    return source_labels().get(code, code)


def fraud_alerts_visible_to(user: User) -> QuerySet[FraudAlert]:
    """Staff see their own offices' alerts; administrators all; anyone else none."""
    return (
        FraudAlert.objects.filter(pensioner__in=pensioners_visible_to(user))
        .select_related("pensioner__street_office__district")
        .order_by("state", "-created_at", "-id")
    )


def overpayments_visible_to(user: User) -> QuerySet[Overpayment]:
    return (
        Overpayment.objects.filter(pensioner__in=pensioners_visible_to(user))
        .select_related("pensioner__street_office__district")
        .order_by("state", "-opened_on", "-id")
    )


def batch_history() -> QuerySet[EvidenceBatch]:
    return EvidenceBatch.objects.select_related("source", "uploaded_by", "partner_token").order_by("-created_at", "-id")
