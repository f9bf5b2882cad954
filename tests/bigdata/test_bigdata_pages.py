"""Pages: administrators see feed batch history; staff see fraud alerts and overpayment cases of
their own offices only (another office's record is a 404)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bigdata.models import EvidenceBatch, EvidenceSource, FraudAlert
from bigdata.selectors import source_label
from bigdata.services import evidence_import, source_get
from certification.models import Overpayment, Role, StreetOffice
from config.celery import app as celery_app
from tests.factories import PensionerFactory, UserFactory, office

from .conftest import make_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_offices() -> tuple[StreetOffice, StreetOffice]:
    return office(), StreetOffice.objects.exclude(name="八大关街道").order_by("id").first()


def _alert_and_case(where: StreetOffice, n: int) -> tuple[FraudAlert, Overpayment]:
    p = PensionerFactory(id_number=make_id(60 + n), street_office=where, status="deceased",
                         death_date=dt.date(2026, 3, 15), name=f"逝者{n}")
    alert = FraudAlert.objects.create(pensioner=p, source="transit", source_ref=f"BUS-{n}",
                                      event_date=dt.date(2026, 5, 1), death_date=dt.date(2026, 3, 15))
    case = Overpayment.objects.create(pensioner=p, death_date=dt.date(2026, 3, 15), months=["2026-04-01"],
                                      total=Decimal("3000.00"), opened_on=dt.date(2026, 7, 1))
    return alert, case


def test_source_label_gives_the_chinese_name():
    assert source_label("hospital") == "医院住院/出院记录"
    assert source_label("unknown-code") == "unknown-code"


def test_administrator_sees_batch_history_with_counts_and_errors_download(client, feed):
    p = PensionerFactory(id_number=make_id(50))
    evidence_import(path=feed([(p.id_number, "2026-06-23", "P-1"), ("bad", "2026-06-23", "P-2")]),
                    source=source_get("hospital"), today=dt.date(2026, 7, 1))
    client.force_login(UserFactory(role=Role.ADMIN))
    page = client.get("/bigdata/batches/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "医院住院/出院记录" in html and "数据导入批次记录" in html
    batch = EvidenceBatch.objects.get()
    download = client.get(f"/bigdata/batches/{batch.pk}/errors.csv")
    assert download.status_code == 200
    assert "身份证号" in b"".join(download.streaming_content).decode("utf-8-sig")


def test_staff_cannot_open_batch_history(client):
    client.force_login(UserFactory(role=Role.STAFF, offices=[office()]))
    assert client.get("/bigdata/batches/").status_code == 403


def test_staff_see_their_own_offices_fraud_alerts_and_overpayments_only(client, two_offices):
    mine, theirs = two_offices
    my_alert, my_case = _alert_and_case(mine, 1)
    their_alert, their_case = _alert_and_case(theirs, 2)
    client.force_login(UserFactory(role=Role.STAFF, offices=[mine]))

    alerts = client.get("/bigdata/fraud-alerts/").content.decode()
    assert "逝者1" in alerts and "逝者2" not in alerts and "老年公交卡乘车记录" in alerts
    cases = client.get("/bigdata/overpayments/").content.decode()
    assert "逝者1" in cases and "逝者2" not in cases

    assert client.get(f"/bigdata/fraud-alerts/{my_alert.pk}/").status_code == 200
    assert client.get(f"/bigdata/fraud-alerts/{their_alert.pk}/").status_code == 404
    assert client.get(f"/bigdata/overpayments/{my_case.pk}/").status_code == 200
    assert client.get(f"/bigdata/overpayments/{their_case.pk}/").status_code == 404
    assert client.post(f"/bigdata/fraud-alerts/{their_alert.pk}/").status_code == 404


def test_staff_close_a_fraud_alert_after_checking(client):
    alert, _ = _alert_and_case(office(), 3)
    client.force_login(UserFactory(role=Role.STAFF, offices=[office()]))
    resp = client.post(f"/bigdata/fraud-alerts/{alert.pk}/", {"note": "家属已说明"})
    assert resp.status_code == 302
    alert.refresh_from_db()
    assert alert.state == "closed"
    assert "已处理" in client.get(f"/bigdata/fraud-alerts/{alert.pk}/").content.decode()


def test_staff_upload_a_feed_through_the_admin(client, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    p = PensionerFactory(id_number=make_id(70))
    admin_user = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    body = f"id_number,event_date,source_ref\n{p.id_number},2026-06-23,ADM-1\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post("/django-admin/bigdata/evidencebatch/add/", {
            "source": EvidenceSource.objects.get(code="counter_visit").pk,
            "file": SimpleUploadedFile("counter.csv", body, "text/csv"),
        })
    assert resp.status_code == 302, resp.content.decode()[:2000]
    batch = EvidenceBatch.objects.get()
    assert (batch.status, batch.accepted, batch.uploaded_by) == ("done", 1, admin_user)
