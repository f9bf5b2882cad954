"""Issue 13 item 8 and issue 9 ("admin writes go through the services, with audit rows"):
every view of personal data is audited, in the portal and in the Django admin, and so is
every change made in the admin; money, status and alert rows are not editable there, and
roster re-imports leave audit rows."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from bigdata.models import EvidenceSource, FraudAlert, PartnerToken
from certification.models import AuditLog, Pensioner
from tests.factories import PensionerFactory, UserFactory, office
from tests.staff.helpers import two_offices, warning_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    return UserFactory(role="admin", is_staff=True, is_superuser=True)


def test_the_400_page_of_an_invalid_call_outcome_is_audited(time_machine, client):
    time_machine.move_to("2026-11-30 10:00 +08:00", tick=False)
    a, _b, staff, *_ = two_offices()
    p = warning_person(a, name="孙玉兰")
    client.force_login(staff)
    resp = client.post(reverse("staff:call_outcome", args=[p.public_key]), {"outcome": "bogus"})
    assert resp.status_code == 400
    assert p.id_number in resp.content.decode()  # the full record is on this page ...
    row = AuditLog.objects.get(action="pensioner_record_open", pensioner=p, actor=staff)  # ... so it is audited
    assert row.detail["via"] == "form_error"


def test_opening_a_pensioner_in_the_django_admin_is_audited(client, admin_user):
    p = PensionerFactory(name="孙玉兰")
    client.force_login(admin_user)
    resp = client.get(reverse("admin:certification_pensioner_change", args=[p.pk]))
    assert resp.status_code == 200 and p.id_number in resp.content.decode()
    row = AuditLog.objects.get(action="admin_view", actor=admin_user)
    assert row.pensioner == p and row.detail["model"] == "certification.pensioner"


def test_amount_phone_and_id_number_cannot_be_edited_in_the_admin(client, admin_user):
    p = PensionerFactory(name="孙玉兰", monthly_amount=Decimal("3000.00"), phone="13900000001")
    client.force_login(admin_user)
    url = reverse("admin:certification_pensioner_change", args=[p.pk])
    resp = client.post(url, {"id_number": "11010119500101003X", "name": "孙玉兰", "phone": "13999999999",
                             "monthly_amount": "9999.00", "street_office": p.street_office_id})
    assert resp.status_code == 403
    p.refresh_from_db()
    assert (p.monthly_amount, p.phone) == (Decimal("3000.00"), "13900000001")
    assert 'name="monthly_amount"' not in client.get(url).content.decode()


def test_a_fraud_alerts_state_cannot_be_edited_in_the_admin(client, admin_user):
    p = PensionerFactory()
    alert = FraudAlert.objects.create(pensioner=p, source="hospital", source_ref="R", event_date=dt.date(2026, 11, 5),
                                      death_date=dt.date(2026, 10, 20))
    client.force_login(admin_user)
    url = reverse("admin:bigdata_fraudalert_change", args=[alert.pk])
    assert client.post(url, {"state": "closed"}).status_code == 403
    alert.refresh_from_db()
    assert alert.state == "open"


def test_a_change_in_the_admin_writes_an_audit_row(client, admin_user):
    o = office("八大关街道")
    client.force_login(admin_user)
    url = reverse("admin:certification_streetoffice_change", args=[o.pk])
    resp = client.post(url, {"district": o.district_id, "name": o.name, "counter_address": "新地址 1 号",
                             "counter_hours": o.counter_hours, "counter_phone": "0532-12345678"})
    assert resp.status_code == 302, resp.content.decode()[:500]
    row = AuditLog.objects.get(action="admin_change", actor=admin_user)
    assert row.detail["change"] == "change" and row.detail["object_id"] == str(o.pk)
    assert "咨询电话" in row.detail["message"]


def test_a_partner_token_made_in_the_admin_is_stored_by_the_service_with_its_real_hash(client, admin_user):
    source = EvidenceSource.objects.get(code="hospital")
    client.force_login(admin_user)
    resp = client.post(reverse("admin:bigdata_partnertoken_add"), {"name": "市立医院", "source": source.pk,
                                                                   "active": "on"}, follow=True)
    assert resp.status_code == 200
    shown = re.search(r"令牌（只显示这一次，请立即交给合作方）：([\w-]+)", resp.content.decode()).group(1)
    token = PartnerToken.objects.get(name="市立医院")
    assert token.key_hash == hashlib.sha256(shown.encode()).hexdigest()
    assert token.prefix == shown[:10]
    assert AuditLog.objects.filter(action="admin_change", detail__change="add",
                                   detail__model="bigdata.partnertoken").exists()


def test_a_roster_reimport_that_changes_a_person_is_audited(tmp_path, capsys):
    header = "id_number,name,phone,street_office,monthly_amount,valid_until\n"
    roster = tmp_path / "roster.csv"
    p = PensionerFactory(name="孙玉兰", monthly_amount=Decimal("3000.00"))
    same = PensionerFactory(name="不变的")
    roster.write_text(header + f"{p.id_number},孙玉兰,{p.phone},八大关街道,3100.50,2027-06-01\n", encoding="utf-8")
    call_command("import_pensioners", str(roster))
    capsys.readouterr()
    row = AuditLog.objects.get(action="roster_update", pensioner=p)
    assert "monthly_amount" in row.detail["fields"]
    assert row.detail["monthly_amount"] == ["3000.00", "3100.50"]
    assert not AuditLog.objects.filter(action="roster_update", pensioner=same).exists()
    summary = AuditLog.objects.get(action="roster_import")
    assert summary.detail["updated"] == 1 and summary.detail["file"] == "roster.csv"
    assert Pensioner.objects.get(pk=p.pk).monthly_amount == Decimal("3100.50")
    call_command("import_pensioners", str(roster))
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["updated"] == 1
    assert AuditLog.objects.filter(action="roster_update", pensioner=p).count() == 1  # nothing changed: no row


def test_the_admin_cannot_search_pensioners_by_id_number(client, admin_user):
    p = PensionerFactory(name="孙玉兰")
    client.force_login(admin_user)
    url = reverse("admin:certification_pensioner_changelist")
    assert "孙玉兰" not in client.get(url, {"q": p.id_number}).content.decode()  # the number is not a search key
    assert "孙玉兰" in client.get(url, {"q": p.public_key}).content.decode()
