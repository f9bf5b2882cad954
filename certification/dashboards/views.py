"""Administrator dashboards: city → district → street office. Every page reads the snapshot."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from certification.access import admin_required

from .export import xlsx_response
from .models import Level
from .panels import build_tables, scope_url
from .selectors import latest_snapshot, scope_get


def _page(request: HttpRequest, level: str, scope_id: int) -> HttpResponse:
    scope = scope_get(level, scope_id)
    snapshot = latest_snapshot()
    tables = build_tables(snapshot, scope)
    crumbs = []
    s = scope
    while s is not None:
        crumbs.insert(0, (s.name, scope_url(s.level, s.id)))
        s = s.parent
    return render(request, "dashboards/scope.html", {
        "scope": scope, "snapshot": snapshot, "tables": tables, "crumbs": crumbs,
        "panels": {t.slug: t for t in tables},
    })


@require_GET
@admin_required
def city(request: HttpRequest) -> HttpResponse:
    return _page(request, Level.CITY, 0)


@require_GET
@admin_required
def district(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, Level.DISTRICT, pk)


@require_GET
@admin_required
def office(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, Level.OFFICE, pk)


@require_GET
@admin_required
def export(request: HttpRequest, level: str, pk: int, slug: str) -> HttpResponse:
    scope = scope_get(level, pk)
    snapshot = latest_snapshot()
    for table in build_tables(snapshot, scope, with_charts=False):
        if table.slug == slug:
            day = snapshot.day.isoformat() if snapshot else "none"
            return xlsx_response(table, filename=f"dashboard-{level}-{pk}-{slug}-{day}.xlsx", scope_name=scope.name)
    raise Http404("没有这个表格")
