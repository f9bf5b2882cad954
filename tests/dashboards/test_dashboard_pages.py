"""The dashboard pages: admin-only, drill-down city → district → office, .xlsx for every table."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from certification.dashboards.models import Figure, Level
from certification.dashboards.services import snapshot_build
from certification.models import Role, StreetOffice
from tests.factories import UserFactory

from .population import TODAY, build_population

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):  # type: ignore[no-untyped-def]
    client.force_login(UserFactory(role=Role.ADMIN))
    return client


@pytest.fixture
def built():  # type: ignore[no-untyped-def]
    build_population(n=30)
    snapshot_build(today=TODAY)


def test_staff_get_403_on_every_dashboard_url(client, built):
    office = StreetOffice.objects.get(name="八大关街道")
    client.force_login(UserFactory(role=Role.STAFF, offices=[office]))
    for url in [reverse("dashboards:city"), reverse("dashboards:district", args=[office.district_id]),
                reverse("dashboards:office", args=[office.pk]),
                reverse("dashboards:export", args=["city", 0, "status"])]:
        assert client.get(url).status_code == 403, url


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("dashboards:city"))
    assert response.status_code == 302
    assert "next=" in response["Location"]


def test_city_page_shows_the_silent_rate_with_numerator_and_denominator(admin_client, built):
    city = {(f.metric, f.key): int(f.value) for f in Figure.objects.filter(level=Level.CITY)}
    num, den = city["silent", "numerator"], city["silent", "denominator"]
    html = admin_client.get(reverse("dashboards:city")).content.decode()
    assert f"{num * 100 / den:.1f}%" in html
    assert f"{num} / {den}" in html
    assert "<svg" in html and "cdn" not in html.lower()
    # Drill-down links to the districts.
    office = StreetOffice.objects.get(name="八大关街道")
    assert reverse("dashboards:district", args=[office.district_id]) in html


def test_district_and_office_pages_drill_down(admin_client, built):
    office = StreetOffice.objects.get(name="八大关街道")
    district_html = admin_client.get(reverse("dashboards:district", args=[office.district_id])).content.decode()
    assert reverse("dashboards:office", args=[office.pk]) in district_html
    office_html = admin_client.get(reverse("dashboards:office", args=[office.pk])).content.decode()
    assert "八大关街道" in office_html and "市南区" in office_html


def test_unknown_district_is_404(admin_client, built):
    assert admin_client.get(reverse("dashboards:district", args=[999999])).status_code == 404


def test_every_table_downloads_as_xlsx_with_the_page_figures(admin_client, built):
    city = {(f.metric, f.key): int(f.value) for f in Figure.objects.filter(level=Level.CITY)}
    for slug in ["silent", "status", "channels", "trend", "sources", "faces", "queue", "money", "children"]:
        response = admin_client.get(reverse("dashboards:export", args=["city", 0, slug]))
        assert response.status_code == 200, slug
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        sheet = load_workbook(io.BytesIO(response.content)).active
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert len(values) >= 2, slug
        if slug == "status":
            assert values[1] == ["状态", "人数"]
            assert values[2][1] == city["status", "active"]


def test_page_without_any_snapshot_says_so(admin_client):
    html = admin_client.get(reverse("dashboards:city")).content.decode()
    assert "还没有统计数据" in html


def test_face_panel_is_empty_with_a_note_until_the_faces_app_lands(admin_client, built):
    from certification.dashboards.services import face_source_ready

    html = admin_client.get(reverse("dashboards:city")).content.decode()
    if not face_source_ready():
        assert "刷脸认证模块尚未上线" in html
    else:
        assert "刷脸认证模块尚未上线" not in html


def test_second_view_of_a_page_reads_the_cached_panels_with_few_queries(admin_client, built, django_assert_max_num_queries):
    first = admin_client.get(reverse("dashboards:city")).content.decode()
    with django_assert_max_num_queries(6):  # session, user, snapshot, scope … not the figures
        second = admin_client.get(reverse("dashboards:city")).content.decode()
    body = lambda html: html[html.index("<h1>"):html.index("</main>")]  # noqa: E731 - the frame has a fresh CSRF token
    assert body(first) == body(second)


def test_a_new_snapshot_is_shown_at_once_not_the_cached_one(admin_client, built):
    from certification.services import pensioner_mark_deceased

    before = admin_client.get(reverse("dashboards:city")).content.decode()
    p = __import__("certification.models", fromlist=["Pensioner"]).Pensioner.objects.filter(status="active").first()
    pensioner_mark_deceased(pensioner=p, death_date=TODAY, today=TODAY, source="death_civil")
    snapshot_build(today=TODAY)
    after = admin_client.get(reverse("dashboards:city")).content.decode()
    dead = {(f.metric, f.key): int(f.value) for f in Figure.objects.filter(level=Level.CITY)}["status", "deceased"]
    assert before != after
    assert f'<div class="help">已死亡</div><div class="big">{dead}</div>' in after.replace("\n", "")
