"""Reads of the snapshot: pages, the API and the .xlsx export all go through these."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.http import Http404

from certification.models import District, StreetOffice

from .models import Figure, Level, Snapshot

Figures = dict[tuple[str, str], Decimal]


@dataclass(frozen=True)
class Scope:
    level: str
    id: int
    name: str
    parent: Scope | None = None

    @property
    def children_level(self) -> str | None:
        return {Level.CITY: Level.DISTRICT, Level.DISTRICT: Level.OFFICE}.get(self.level)


CITY = Scope(Level.CITY, 0, "青岛市")


def latest_snapshot() -> Snapshot | None:
    return Snapshot.objects.order_by("-day").first()


def scope_get(level: str, scope_id: int) -> Scope:
    if level == Level.CITY:
        return CITY
    if level == Level.DISTRICT:
        d = District.objects.filter(pk=scope_id).first()
        if d is None:
            raise Http404("没有这个区（市）")
        return Scope(Level.DISTRICT, d.pk, d.name, CITY)
    if level == Level.OFFICE:
        o = StreetOffice.objects.select_related("district").filter(pk=scope_id).first()
        if o is None:
            raise Http404("没有这个街道")
        return Scope(Level.OFFICE, o.pk, o.name, Scope(Level.DISTRICT, o.district_id, o.district.name, CITY))
    raise Http404("层级无效")


def children_of(scope: Scope) -> list[Scope]:
    if scope.level == Level.CITY:
        return [Scope(Level.DISTRICT, d.pk, d.name, scope) for d in District.objects.order_by("code")]
    if scope.level == Level.DISTRICT:
        return [Scope(Level.OFFICE, o.pk, o.name, scope) for o in StreetOffice.objects.filter(district_id=scope.id)]
    return []


def offices_under(scope: Scope) -> list[Scope]:
    qs = StreetOffice.objects.select_related("district").order_by("district__code", "name")
    if scope.level == Level.DISTRICT:
        qs = qs.filter(district_id=scope.id)
    elif scope.level == Level.OFFICE:
        qs = qs.filter(pk=scope.id)
    return [Scope(Level.OFFICE, o.pk, f"{o.district.name}/{o.name}", scope) for o in qs]


def figures_for(
    snapshot: Snapshot | None, level: str, scope_ids: list[int], metrics: list[str] | None = None
) -> dict[int, Figures]:
    """{scope_id: {(metric, key): value}} for several scopes of one level, in one query."""
    out: dict[int, Figures] = defaultdict(dict)
    if snapshot is None or not scope_ids:
        return out
    qs = Figure.objects.filter(snapshot=snapshot, level=level, scope_id__in=scope_ids)
    if metrics:
        qs = qs.filter(metric__in=metrics)  # the per-office tables need 1-3 of the ~10 metrics
    rows = qs.values_list("scope_id", "metric", "key", "value")
    for sid, metric, key, value in rows:
        out[sid][(metric, key)] = value
    return out
