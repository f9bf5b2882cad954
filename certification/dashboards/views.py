"""Administrator dashboards: city → district → street office. Every page reads the snapshot."""

from __future__ import annotations

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from certification.access import admin_required

from .export import xlsx_response
from .models import Level, Snapshot
from .panels import build_tables, scope_url
from .selectors import Scope, latest_snapshot, scope_get

# The panels change only when a new snapshot is built (nightly): their rendered HTML is
# cached under the snapshot's id, so a page view costs a few indexed reads. The
# fragment holds no user data and no CSRF token; the page frame is rendered per user.
PANELS_CACHE_SECONDS = 24 * 3600


def _panels_html(snapshot: Snapshot | None, scope: Scope) -> str:
    built = f"{snapshot.pk}-{snapshot.built_at.timestamp()}" if snapshot else "none"
    key = f"dashboards:panels:v1:{built}:{scope.level}:{scope.id}:{get_language()}"
    body = cache.get(key)
    if body is None:
        tables = build_tables(snapshot, scope)
        body = render_to_string("dashboards/_panels.html", {
            "scope": scope, "tables": tables, "panels": {t.slug: t for t in tables},
        })
        cache.set(key, body, PANELS_CACHE_SECONDS)
    return body


def _page(request: HttpRequest, level: str, scope_id: int) -> HttpResponse:
    scope = scope_get(level, scope_id)
    snapshot = latest_snapshot()
    crumbs = []
    s = scope
    while s is not None:
        crumbs.insert(0, (s.name, scope_url(s.level, s.id)))
        s = s.parent
    return render(request, "dashboards/scope.html", {
        "scope": scope, "snapshot": snapshot, "crumbs": crumbs, "body": mark_safe(_panels_html(snapshot, scope)),  # noqa: S308 - our own template's output
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
