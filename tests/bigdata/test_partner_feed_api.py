"""Partner feed upload: POST /api/v1/feeds/batches/ with a source-bound token → Celery task →
GET /api/v1/feeds/batches/<id>/ shows the counts and a link to the errors file."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from bigdata.models import EvidenceBatch, EvidenceSource, PartnerToken
from bigdata.services import partner_token_create
from certification.models import Role
from config.celery import app as celery_app
from tests.factories import PensionerFactory, UserFactory

from .conftest import make_id

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager(monkeypatch):  # type: ignore[no-untyped-def]
    # The task runs inline here; tests/bigdata/test_scale_out_with_real_worker.py uses a real worker.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def hospital_key() -> str:
    _token, key = partner_token_create(name="市立医院", source=EvidenceSource.objects.get(code="hospital"))
    return key


def _client(key: str | None = None) -> APIClient:
    c = APIClient()
    if key:
        c.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return c


def _upload(client: APIClient, content: bytes, name: str = "feed.csv"):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/feeds/batches/", {"file": SimpleUploadedFile(name, content, "text/csv")},
                       format="multipart")


def test_partner_uploads_a_feed_and_reads_back_counts_and_errors_link(hospital_key,
                                                                       django_capture_on_commit_callbacks):
    p = PensionerFactory(id_number=make_id(40), valid_until=dt.date(2026, 9, 30))
    body = f"id_number,event_date,source_ref\n{p.id_number},2026-06-23,API-1\nbroken-line\n{make_id(41)},2026-06-01,API-3\n"
    client = _client(hospital_key)
    with django_capture_on_commit_callbacks(execute=True):
        resp = _upload(client, body.encode())
    assert resp.status_code == 202, resp.content
    batch_id = resp.json()["id"]

    detail = client.get(f"/api/v1/feeds/batches/{batch_id}/")
    assert detail.status_code == 200
    data = detail.json()
    assert (data["status"], data["source"], data["rows"], data["accepted"], data["rejected"], data["unmatched"],
            data["duplicates"]) == ("done", "hospital", 3, 1, 1, 1, 0)
    assert data["errors_file"].endswith(f"/api/v1/feeds/batches/{batch_id}/errors/")

    errors = client.get(data["errors_file"])
    assert errors.status_code == 200
    text = b"".join(errors.streaming_content).decode("utf-8-sig")
    assert "3," in text and "broken-line" in text
    batch = EvidenceBatch.objects.get(pk=batch_id)
    assert batch.partner_token.name == "市立医院"


def test_a_bad_or_revoked_token_is_refused(hospital_key):
    assert _upload(_client("pf_not-a-real-key"), b"x").status_code == 401
    PartnerToken.objects.update(active=False)
    assert _upload(_client(hospital_key), b"x").status_code == 401
    assert _upload(_client(), b"x").status_code in (401, 403)


def test_a_partner_sees_only_its_own_sources_batches(hospital_key, django_capture_on_commit_callbacks):
    _t, transit_key = partner_token_create(name="公交集团", source=EvidenceSource.objects.get(code="transit"))
    with django_capture_on_commit_callbacks(execute=True):
        batch_id = _upload(_client(hospital_key), b"id_number,event_date,source_ref\n").json()["id"]
    assert _client(transit_key).get(f"/api/v1/feeds/batches/{batch_id}/").status_code == 404
    assert [b["id"] for b in _client(transit_key).get("/api/v1/feeds/batches/").json()["results"]] == []
    assert [b["id"] for b in _client(hospital_key).get("/api/v1/feeds/batches/").json()["results"]] == [batch_id]


def test_staff_cannot_read_batches_but_administrators_can(hospital_key, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        batch_id = _upload(_client(hospital_key), b"id_number,event_date,source_ref\n").json()["id"]
    staff = APIClient()
    staff.force_authenticate(UserFactory(role=Role.STAFF))
    assert staff.get(f"/api/v1/feeds/batches/{batch_id}/").status_code == 403
    admin = APIClient()
    admin.force_authenticate(UserFactory(role=Role.ADMIN))
    assert admin.get(f"/api/v1/feeds/batches/{batch_id}/").json()["status"] == "done"
    # Only partners upload over the API; staff use the admin.
    assert admin.post("/api/v1/feeds/batches/", {"file": SimpleUploadedFile("f.csv", b"x")},
                      format="multipart").status_code == 403
