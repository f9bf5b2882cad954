"""Issue 13 item 7: staff URLs and API routes carry an opaque key, never the ID number,
so access logs never hold one (DESIGN §4)."""

import re

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from certification.models import Pensioner
from certification.staff import services
from tests.staff.helpers import TODAY, suspended_person, two_offices, warning_person

pytestmark = pytest.mark.django_db

ID_IN_TEXT = re.compile(r"\d{17}[\dX]")


@pytest.fixture
def w(time_machine):
    time_machine.move_to("2026-11-30 10:00 +08:00", tick=False)
    a, b, staff_a, staff_a2, staff_b, admin = two_offices()
    mine = warning_person(a, name="本街道")
    suspended_person(a, name="暂停者")
    theirs = warning_person(b, name="外街道")
    return dict(staff=staff_a, staff_b=staff_b, admin=admin, mine=mine, theirs=theirs)


def _urls_in(html: str) -> list[str]:
    return re.findall(r'(?:href|action)="([^"]*)"', html)


def test_queue_results_link_to_an_opaque_key_not_the_id_number(w):
    api = APIClient()
    api.force_authenticate(w["staff"])
    results = api.get("/api/v1/staff/queue/").json()["results"]
    assert len(results) == 2
    for r in results:
        assert re.search(r"/api/v1/staff/pensioners/[0-9a-f]{32}/$", r["url"]), r["url"]
        assert not ID_IN_TEXT.search(r["url"])
    detail = api.get(results[1]["url"])
    assert detail.status_code == 200 and detail.json()["id_number"] == w["mine"].id_number


def test_the_id_number_route_is_gone(w):
    api = APIClient()
    api.force_authenticate(w["admin"])
    assert api.get(f"/api/v1/staff/pensioners/{w['mine'].id_number}/").status_code == 404
    assert api.get(f"/api/v1/staff/pensioners/{w['mine'].public_key}/").status_code == 200
    assert api.get(f"/api/v1/staff/pensioners/{w['mine'].public_key}/call-outcomes/").status_code == 405


def test_another_offices_key_is_a_404_like_a_nonexistent_one(w):
    api = APIClient()
    api.force_authenticate(w["staff"])
    assert api.get(f"/api/v1/staff/pensioners/{w['theirs'].public_key}/").status_code == 404
    assert api.get(f"/api/v1/staff/pensioners/{'0' * 32}/").status_code == 404


def test_no_link_or_form_on_the_staff_pages_carries_an_id_number_or_a_row_id(w, client):
    services.home_visit_schedule(pensioner=w["mine"], staff=w["staff"], visit_on=TODAY, assignee=w["staff"])
    services.death_report(pensioner=w["mine"], staff=w["staff"], death_date=TODAY, evidence_ref="E-1")
    client.force_login(w["staff"])
    queue = client.get(reverse("staff:queue")).content.decode()
    detail_path = reverse("staff:pensioner", args=[w["mine"].public_key])
    assert detail_path in queue
    detail = client.get(detail_path)
    assert detail.status_code == 200
    html = detail.content.decode()
    assert w["mine"].id_number in html  # the full record is shown (and audited) ...
    urls = _urls_in(queue) + _urls_in(html)
    assert any(w["mine"].public_key in u for u in urls)
    for u in urls:  # ... but never in a URL
        assert not ID_IN_TEXT.search(u), u
        assert f"/pensioners/{w['mine'].pk}/" not in u, u


def test_a_form_post_redirects_to_the_key_url(w, client):
    client.force_login(w["staff"])
    resp = client.post(reverse("staff:call_outcome", args=[w["mine"].public_key]), {"outcome": "no_answer"})
    assert resp.status_code == 302
    assert resp["Location"] == reverse("staff:pensioner", args=[w["mine"].public_key])


def test_every_pensioner_gets_its_own_unguessable_key_even_through_raw_sql(w):
    keys = list(Pensioner.objects.values_list("public_key", flat=True))
    assert len(keys) == len(set(keys)) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", k) for k in keys)
    # Bulk loaders (COPY, raw INSERT) leave the column out: the database's default fills it.
    src = w["mine"]
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO certification_pensioner (id_number, name, birth_date, sex, phone, phone_invalid, address,"
            " street_office_id, benefit_type, monthly_amount, valid_until, status, special_group, relative_phone,"
            " enrolled_on, created_at, updated_at)"
            " SELECT '11010119500101003X', name, birth_date, sex, phone, phone_invalid, address, street_office_id,"
            " benefit_type, monthly_amount, valid_until, status, special_group, relative_phone, enrolled_on,"
            " created_at, updated_at FROM certification_pensioner WHERE id = %s", [src.pk])
    raw = Pensioner.objects.get(id_number="11010119500101003X")
    assert re.fullmatch(r"[0-9a-f]{32}", raw.public_key) and raw.public_key not in keys


def test_no_admin_list_searches_by_id_number_or_phone():
    from django.contrib import admin

    for model, model_admin in admin.site._registry.items():
        for field in model_admin.search_fields:
            name = field.lstrip("=^@").split("__")[-1]
            assert name not in ("id_number", "phone", "recipient", "contact_phone"), (model, field)
