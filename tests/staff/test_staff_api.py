"""The staff API: queue shape, scope 404s on every endpoint, actions, token auth, no 5xx on junk."""

import pytest
from rest_framework.test import APIClient

from certification.accounts.tokens import api_token_issue
from certification.models import AuditLog
from certification.staff import services
from tests.staff.helpers import TODAY, suspended_person, two_offices, warning_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(time_machine):
    time_machine.move_to("2026-11-30 10:00 +08:00", tick=False)
    a, b, staff_a, staff_a2, staff_b, admin = two_offices()
    mine = warning_person(a, name="本街道")
    theirs = warning_person(b, name="外街道")
    return dict(a=a, b=b, staff=staff_a, staff2=staff_a2, staff_b=staff_b, mine=mine, theirs=theirs)


def _client(user):
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)}")
    return c


def test_queue_is_paginated_with_url_and_street_office(w):
    suspended_person(w["a"], name="暂停者")
    resp = _client(w["staff"]).get("/api/v1/staff/queue/")
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert [r["name"] for r in body["results"]] == ["暂停者", "本街道"]
    first = body["results"][1]
    assert first["street_office"] == "八大关街道"
    assert first["url"].endswith(f"/api/v1/staff/pensioners/{w['mine'].public_key}/")
    assert w["mine"].id_number not in str(body)
    assert first["masked_id"] == w["mine"].masked_id and w["mine"].id_number not in str(first["masked_id"])
    only = _client(w["staff"]).get("/api/v1/staff/queue/", {"status": "suspended"}).json()
    assert [r["name"] for r in only["results"]] == ["暂停者"]


def test_queue_rejects_a_bad_status_with_json_400(w):
    resp = _client(w["staff"]).get("/api/v1/staff/queue/", {"status": "active"})
    assert resp.status_code == 400 and "errors" in resp.json()


def test_detail_url_from_the_queue_works_and_is_audited(w):
    c = _client(w["staff"])
    url = c.get("/api/v1/staff/queue/").json()["results"][0]["url"]
    resp = c.get(url)
    assert resp.status_code == 200
    assert resp.json()["id_number"] == w["mine"].id_number
    assert AuditLog.objects.filter(action="pensioner_record_open", pensioner=w["mine"], actor=w["staff"]).exists()


def test_every_endpoint_is_404_for_another_offices_pensioner(w):
    theirs = w["theirs"]
    visit = services.home_visit_schedule(pensioner=theirs, staff=w["staff_b"], visit_on=TODAY, assignee=w["staff_b"])
    report = services.death_report(pensioner=theirs, staff=w["staff_b"], death_date=TODAY, evidence_ref="E")
    n = theirs.public_key
    c = _client(w["staff"])
    calls = [
        ("get", f"/api/v1/staff/pensioners/{n}/", {}),
        ("post", f"/api/v1/staff/pensioners/{n}/call-outcomes/", {"outcome": "reached"}),
        ("post", f"/api/v1/staff/pensioners/{n}/home-visits/", {"visit_on": "2026-12-01",
                                                               "assignee": w["staff"].username}),
        ("post", f"/api/v1/staff/pensioners/{n}/counter-certifications/", {"occurred_on": "2026-11-30",
                                                                          "id_checked": True}),
        ("post", f"/api/v1/staff/pensioners/{n}/video-certifications/", {"occurred_on": "2026-11-30",
                                                                        "relative_name": "a", "relationship": "b"}),
        ("post", f"/api/v1/staff/pensioners/{n}/death-reports/", {"death_date": "2026-11-30", "evidence_ref": "x"}),
        ("post", f"/api/v1/staff/home-visits/{visit.pk}/outcome/", {"outcome": "certified"}),
        ("post", f"/api/v1/staff/death-reports/{report.pk}/confirm/", {}),
    ]
    for method, url, data in calls:
        resp = getattr(c, method)(url, data, format="json")
        assert resp.status_code == 404, (url, resp.status_code, resp.content)
        assert resp.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.status == "warning" and not theirs.certifications.exists()
    assert not any(r["name"] == "外街道" for r in c.get("/api/v1/staff/queue/").json()["results"])


def test_actions_through_the_api_certify_and_audit(w):
    c = _client(w["staff"])
    n = w["mine"].public_key
    assert c.post(f"/api/v1/staff/pensioners/{n}/call-outcomes/", {"outcome": "no_answer"},
                  format="json").status_code == 201
    resp = c.post(f"/api/v1/staff/pensioners/{n}/home-visits/",
                  {"visit_on": "2026-11-30", "assignee": w["staff2"].username}, format="json")
    assert resp.status_code == 201
    done = c.post(f"/api/v1/staff/home-visits/{resp.json()['id']}/outcome/", {"outcome": "certified"}, format="json")
    assert done.status_code == 200
    assert done.json()["status"] == "active" and done.json()["valid_until"] == "2027-11-30"
    assert w["mine"].certifications.get().method == "home_visit"
    actions = set(AuditLog.objects.filter(pensioner=w["mine"]).values_list("action", flat=True))
    assert {"contact_record", "home_visit_schedule", "home_visit_record_outcome", "certification_record"} <= actions


def test_death_report_and_confirmation_by_a_second_person_through_the_api(w):
    n = w["mine"].public_key
    rep = _client(w["staff"]).post(f"/api/v1/staff/pensioners/{n}/death-reports/",
                                   {"death_date": "2026-11-01", "evidence_ref": "D-9"}, format="json")
    assert rep.status_code == 201 and rep.json()["status"] == "warning"
    same = _client(w["staff"]).post(f"/api/v1/staff/death-reports/{rep.json()['id']}/confirm/", format="json")
    assert same.status_code == 403  # the two-person rule (certification.two_person)
    other = _client(w["staff2"]).post(f"/api/v1/staff/death-reports/{rep.json()['id']}/confirm/", format="json")
    assert other.status_code == 200 and other.json()["status"] == "deceased"


def test_non_staff_and_anonymous_callers_are_refused(w):
    from tests.factories import UserFactory

    assert APIClient().get("/api/v1/staff/queue/").status_code in (401, 403)
    rel = APIClient()
    rel.force_authenticate(UserFactory(role="relative"))
    assert rel.get("/api/v1/staff/queue/").status_code == 403


@pytest.mark.parametrize("path", [
    "/api/v1/staff/pensioners/not-an-id/",
    "/api/v1/staff/pensioners/%00/",
    "/api/v1/staff/pensioners/370202194001011040/",
    "/api/v1/staff/pensioners/00000000000000000000000000000000/",
    "/api/v1/staff/pensioners/0000000000000000000000000000000g/",
    "/api/v1/staff/home-visits/99999999999999999999999/outcome/",
    "/api/v1/staff/death-reports/0/confirm/",
])
def test_junk_paths_are_404_not_500(w, path):
    c = _client(w["staff"])
    resp = c.post(path, {}, format="json") if path.endswith(("outcome/", "confirm/")) else c.get(path)
    assert resp.status_code == 404


@pytest.mark.parametrize("body", [
    {"outcome": "reached", "note": "x" * 500},
    {"outcome": "bogus"},
    {"outcome": "reached", "note": "a\x00b"},
    {},
])
def test_junk_bodies_are_400_not_500(w, body):
    resp = _client(w["staff"]).post(f"/api/v1/staff/pensioners/{w['mine'].public_key}/call-outcomes/", body,
                                    format="json")
    assert resp.status_code == 400


def test_queue_filters_with_junk_are_400(w):
    c = _client(w["staff"])
    for q in ({"community": "99999999999999999999999"}, {"community": "x"}, {"outcome": "zz"}):
        assert c.get("/api/v1/staff/queue/", q).status_code == 400
