"""Reads that span relations, and the office scope every staff read goes through."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from . import idnumber
from .models import Certification, Pensioner, StreetOffice, User


def offices_for(user: User) -> QuerySet[StreetOffice]:
    """The street offices a user may see: all for administrators, assigned ones for staff, none otherwise."""
    if not user.is_authenticated:
        return StreetOffice.objects.none()
    if user.is_portal_admin:
        return StreetOffice.objects.all()
    if user.is_staff_member:
        return user.street_offices.all()
    return StreetOffice.objects.none()


def pensioners_visible_to(user: User) -> QuerySet[Pensioner]:
    """Least privilege: staff see only their own offices' pensioners; others see none."""
    if not user.is_authenticated:
        return Pensioner.objects.none()
    if user.is_portal_admin:
        return Pensioner.objects.all()
    if user.is_staff_member:
        return Pensioner.objects.filter(street_office__in=user.street_offices.all())
    return Pensioner.objects.none()


def pensioner_for_staff(user: User, *, key: str | None = None, id_number: str | None = None,
                        pk: int | None = None) -> Pensioner:
    """One pensioner in the user's scope, or 404: another office's person looks nonexistent.

    URLs carry `key` (the opaque public key); `id_number` is for numbers typed into a form body."""
    qs = pensioners_visible_to(user).select_related("street_office__district", "community")
    try:
        if key is not None:
            return qs.get(public_key=key)
        if id_number is not None:
            return qs.get(id_number=idnumber.normalize(id_number))
        return qs.get(pk=pk)
    except Pensioner.DoesNotExist:
        raise Http404("未找到该人员") from None


def certification_history(pensioner: Pensioner, limit: int = 50) -> QuerySet[Certification]:
    return pensioner.certifications.select_related("helper").order_by("-occurred_on", "-id")[:limit]


def pensioner_summary(pensioner: Pensioner) -> dict[str, object]:
    """The DESIGN §4 `show_pensioner` shape."""
    from decimal import Decimal

    from django.db.models import Sum

    back_pay = pensioner.back_pays.aggregate(t=Sum("total"))["t"] or Decimal("0")
    # A case cancelled by a revoked death (issue 10) was never owed.
    overpaid = pensioner.overpayments.exclude(state="cancelled").aggregate(t=Sum("total"))["t"] or Decimal("0")
    return {
        "id_number": pensioner.id_number,
        "name": pensioner.name,
        "status": pensioner.status,
        "valid_until": pensioner.valid_until.isoformat(),
        "suspended_since": pensioner.suspended_since.isoformat() if pensioner.suspended_since else None,
        "death_date": pensioner.death_date.isoformat() if pensioner.death_date else None,
        "certifications": [
            {"method": c.method, "occurred_on": c.occurred_on.isoformat(), "source": c.source}
            for c in pensioner.certifications.order_by("-occurred_on", "-id")
        ],
        "back_pay_total": f"{back_pay:.2f}",
        "overpayment_total": f"{overpaid:.2f}",
        "fraud_alerts": pensioner.fraud_alerts.count(),
    }
