"""The street office's case list (DESIGN §5): page, API, Excel, counts, the by-office panel.

Five kinds, each with opened_on, due_on and state; overdue cases stand out; scoped to
the caller's offices (another office's case is a 404), administrators see all.
"""

from __future__ import annotations

import datetime as dt
import io

from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from bigdata.models import DeathRecord, FraudAlert
from certification.cases import services
from certification.cases.models import Appeal
from tests.factories import PensionerFactory

from .conftest import DUE


def _record(p, *, state="verify", opened=dt.date(2026, 12, 3), due=DUE, ref="H-1", source="hukou_cancel"):
    return DeathRecord.objects.create(pensioner=p, source=source, source_ref=ref, death_date=dt.date(2026, 11, 20),
                                      kind="verify" if state == "verify" else "conflict", state=state,
                                      opened_on=opened, due_on=due)


def _one_of_each(w):
    a = w["a"]
    appeal = services.appeal_file(pensioner=w["suspended"], filed_by=w["staff"], via="staff", kind="certified")
    verify = _record(PensionerFactory(street_office=a), ref="H-1")
    # Opened two weeks ago: overdue since its deadline passed.
    conflict = _record(PensionerFactory(street_office=a), state="conflict", ref="C-1", source="death_civil",
                       opened=dt.date(2026, 11, 19), due=dt.date(2026, 11, 24))
    dead = PensionerFactory(street_office=a, status="deceased", death_date=dt.date(2026, 10, 1))
    fraud = FraudAlert.objects.create(pensioner=dead, source="transit", source_ref="T-9",
                                      event_date=dt.date(2026, 11, 1), death_date=dt.date(2026, 10, 1))
    revocation = services.revocation_record(pensioner=dead, staff=w["staff"], reason="身份证号录入错误")
    # Another office's case, never shown to office A.
    services.appeal_file(pensioner=w["other"], filed_by=w["staff_b"], via="staff", kind="alive")
    return {"appeal": appeal, "death_verify": verify, "death_conflict": conflict, "fraud_alert": fraud,
            "revocation": revocation}


def test_the_api_lists_every_kind_with_dates_state_and_the_pensioner_url(w):
    cases = _one_of_each(w)
    api = APIClient()
    api.force_authenticate(w["staff"])
    body = api.get("/api/v1/staff/cases/").json()
    assert {"count", "next", "previous", "results"} <= set(body)
    by_kind = {r["kind"]: r for r in body["results"]}
    assert set(by_kind) == {"appeal", "death_verify", "death_conflict", "fraud_alert", "revocation"}
    assert body["count"] == 5  # not office B's appeal
    assert by_kind["appeal"]["due_on"] == DUE.isoformat() and by_kind["appeal"]["state"] == "open"
    assert by_kind["death_conflict"]["overdue"] is True and by_kind["appeal"]["overdue"] is False
    assert by_kind["revocation"]["state"] == "pending"
    # A fraud alert's deadline is counted from the day it was raised.
    assert by_kind["fraud_alert"]["opened_on"] == "2026-12-03" and by_kind["fraud_alert"]["due_on"] == DUE.isoformat()
    p = cases["appeal"].pensioner
    assert by_kind["appeal"]["pensioner_url"].endswith(f"/api/v1/staff/pensioners/{p.public_key}/")
    assert p.id_number not in str(body)
    assert api.get(by_kind["appeal"]["pensioner_url"]).status_code == 200


def test_the_api_filters_by_kind_and_refuses_an_unknown_one(w):
    _one_of_each(w)
    api = APIClient()
    api.force_authenticate(w["staff"])
    only = api.get("/api/v1/staff/cases/?kind=death_verify").json()
    assert only["count"] == 1 and only["results"][0]["kind"] == "death_verify"
    assert api.get("/api/v1/staff/cases/?kind=nonsense").status_code == 400


def test_an_administrator_sees_every_office(w):
    _one_of_each(w)
    api = APIClient()
    api.force_authenticate(w["admin"])
    assert api.get("/api/v1/staff/cases/").json()["count"] == 6


def test_another_office_sees_none_of_these_and_gets_404_on_each(client, w):
    cases = _one_of_each(w)
    api = APIClient()
    api.force_authenticate(w["staff_b"])
    assert {r["kind"] for r in api.get("/api/v1/staff/cases/").json()["results"]} == {"appeal"}
    client.force_login(w["staff_b"])
    assert client.get(reverse("cases:appeal", args=[cases["appeal"].pk])).status_code == 404
    assert client.get(reverse("cases:death_record", args=[cases["death_verify"].pk])).status_code == 404
    assert client.get(reverse("cases:revocation", args=[cases["revocation"].pk])).status_code == 404
    assert api.post(f"/api/v1/staff/death-records/{cases['death_verify'].pk}/confirm/").status_code == 404
    assert api.post(f"/api/v1/staff/death-revocations/{cases['revocation'].pk}/confirm/").status_code == 404


def test_the_page_lists_them_and_marks_the_overdue_one(client, w):
    cases = _one_of_each(w)
    client.force_login(w["staff"])
    page = client.get(reverse("cases:list")).content.decode()
    assert page.count('data-testid="overdue"') == 1
    assert f'data-testid="case-death_conflict-{cases["death_conflict"].pk}"' in page
    assert "周建国" not in page  # office B's pensioner
    assert "2026-12-08" in page


def test_the_staff_home_shows_open_counts_by_kind(client, w):
    _one_of_each(w)
    client.force_login(w["staff"])
    page = client.get(reverse("certification:staff_home")).content.decode()
    assert 'data-testid="count-death_conflict"' in page and "1 件已超期" in page
    assert reverse("cases:list") in page


def test_the_dashboard_panel_shows_open_and_overdue_by_office(client, w):
    _one_of_each(w)
    client.force_login(w["admin"])
    page = client.get(reverse("certification:admin_home")).content.decode()
    assert 'data-testid="cases-panel"' in page
    from certification.cases.selectors import cases_by_office

    rows = {r.office.name: (r.open, r.overdue) for r in cases_by_office(w["admin"], today=dt.date(2026, 12, 3))}
    assert rows == {"八大关街道": (5, 1), "中山路街道": (1, 0)}


def test_everything_exports_to_excel_with_masked_ids(client, w):
    _one_of_each(w)
    client.force_login(w["staff"])
    resp = client.get(reverse("cases:export"))
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("类型", "姓名", "身份证号")
    assert len(rows) == 6
    assert sum(1 for r in rows[1:] if r[6] == "超期") == 1
    assert all("*" in r[2] for r in rows[1:])


def test_a_staff_member_with_no_open_cases_sees_an_empty_list(client, w):
    client.force_login(w["staff"])
    assert "没有待处理的案件" in client.get(reverse("cases:list")).content.decode()
    assert not Appeal.objects.exists()
