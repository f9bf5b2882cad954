"""API hygiene: versioned, paginated, JSON errors with code + message, throttled, admin-only figures."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from certification.dashboards.models import Figure, Level
from certification.dashboards.services import snapshot_build
from certification.models import Role, StreetOffice
from tests.factories import PensionerFactory, UserFactory

pytestmark = pytest.mark.django_db


def client_for(role: str, **kw) -> APIClient:  # type: ignore[no-untyped-def]
    c = APIClient()
    c.force_authenticate(UserFactory(role=role, **kw))
    return c


@pytest.fixture
def snapshot():  # type: ignore[no-untyped-def]
    office = StreetOffice.objects.get(name="八大关街道")
    PensionerFactory.create_batch(4, street_office=office)
    PensionerFactory.create_batch(2, street_office=office, valid_until=dt.date(2026, 10, 1), status="warning")
    return snapshot_build(today=dt.date(2026, 11, 20))


def test_dashboard_panels_match_the_snapshot(snapshot):
    body = client_for(Role.ADMIN).get("/api/v1/dashboards/city/0/").json()
    assert body["day"] == "2026-11-20" and body["level"] == "city"
    status = next(t for t in body["tables"] if t["slug"] == "status")
    counts = {f.key: int(f.value) for f in Figure.objects.filter(level=Level.CITY, metric="status")}
    assert status["rows"][0][1] == counts["active"] == 4
    assert status["rows"][1][1] == counts["warning"] == 2


def test_figures_are_paginated_with_count_next_previous(snapshot):
    body = client_for(Role.ADMIN).get("/api/v1/dashboards/figures/?level=city&scope_id=0&page_size=5").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == Figure.objects.filter(level=Level.CITY).count() > len(body["results"]) > 0
    assert body["next"] is not None and "page=2" in body["next"]


def test_staff_get_a_json_403_from_the_dashboard_api(snapshot):
    office = StreetOffice.objects.get(name="八大关街道")
    response = client_for(Role.STAFF, offices=[office]).get("/api/v1/dashboards/city/0/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied" and response.json()["message"]


def test_anonymous_gets_a_json_401_with_code_and_message():
    response = APIClient().get("/api/v1/dashboards/figures/")
    assert response.status_code == 401
    assert response.json() == {"code": "not_authenticated", "message": response.json()["message"]}


def test_bad_query_is_a_json_400_naming_the_field(snapshot):
    response = client_for(Role.ADMIN).get("/api/v1/dashboards/figures/?level=planet")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "level" in body["errors"]


def test_unknown_scope_and_unknown_api_path_are_json_404(snapshot):
    admin = client_for(Role.ADMIN)
    r1 = admin.get("/api/v1/dashboards/district/999999/")
    assert r1.status_code == 404 and r1.json()["code"] == "not_found"
    r2 = APIClient().get("/api/v1/no-such-thing/")
    assert r2.status_code == 404 and r2.json()["code"] == "not_found"
    assert r2["Content-Type"].startswith("application/json")


def test_throttled_requests_get_429_with_code(snapshot, monkeypatch, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle-test"}}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "user": "2/min"})
    admin = client_for(Role.ADMIN)
    codes = [admin.get("/api/v1/dashboards/city/0/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert admin.get("/api/v1/dashboards/city/0/").json()["code"] == "throttled"


def test_server_errors_are_json_without_internals(snapshot, monkeypatch):
    import certification.dashboards.api as api

    monkeypatch.setattr(api, "build_tables", lambda *a, **k: 1 / 0)
    client = client_for(Role.ADMIN)
    client.raise_request_exception = False
    response = client.get("/api/v1/dashboards/city/0/")
    assert response.status_code == 500
    assert response.json() == {"code": "server_error", "message": "服务器内部错误，请稍后再试"}


def test_schema_and_offline_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/v1/dashboards/figures/" in schema["paths"]
    assert all(p.startswith("/api/v1/") for p in schema["paths"])
    assert "Error" in schema["components"]["schemas"]
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs.lower()
    assert "cdn" not in docs.lower() and "unpkg" not in docs.lower()


def test_a_post_to_an_unknown_api_path_is_a_json_404_not_a_csrf_page():
    client = APIClient(enforce_csrf_checks=True)
    response = client.post("/api/v1/staff/death-reports/-1/confirm/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
