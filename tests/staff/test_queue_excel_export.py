"""The Excel export of the filtered queue opens with openpyxl; IDs are masked unless permitted."""

import datetime as dt
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from openpyxl import load_workbook

from certification.models import AuditLog
from certification.staff.services import EXPORT_HEADERS
from tests.staff.helpers import suspended_person, two_offices, warning_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(time_machine):
    time_machine.move_to("2026-11-30 10:00 +08:00", tick=False)
    a, b, staff_a, staff_a2, staff_b, admin = two_offices()
    p1 = warning_person(a, days_into_warning=80, name="张三", phone="13912345678")
    p2 = suspended_person(a, name="李四")
    warning_person(b, name="外街道")
    return dict(a=a, staff=staff_a, p1=p1, p2=p2)


def _sheet(resp):
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(resp.content))
    return [list(r) for r in wb.active.iter_rows(values_only=True)]


def test_export_has_chinese_headers_masked_ids_and_the_queue_order(client, w):
    client.force_login(w["staff"])
    rows = _sheet(client.get(reverse("staff:queue_export")))
    assert rows[0] == EXPORT_HEADERS
    assert [r[0] for r in rows[1:]] == ["李四", "张三"]
    zhang = rows[2]
    assert zhang[1] == w["p1"].masked_id and zhang[1] != w["p1"].id_number
    assert zhang[2] == "139****5678"
    assert zhang[4] == "八大关街道"
    assert zhang[6] == "提醒期" and rows[1][6] == "已暂停"
    assert zhang[7] == dt.datetime(2026, 9, 11)  # valid_until as a real date cell
    assert zhang[8] == 12  # days until suspension (2026-12-12)
    assert AuditLog.objects.get(action="queue_export").detail["rows"] == 2


def test_export_follows_the_current_filter(client, w):
    client.force_login(w["staff"])
    rows = _sheet(client.get(reverse("staff:queue_export"), {"status": "suspended"}))
    assert [r[0] for r in rows[1:]] == ["李四"]


def test_the_unmask_permission_exports_full_ids(client, w):
    w["staff"].user_permissions.add(Permission.objects.get(codename="unmask_pii"))
    client.force_login(w["staff"])
    rows = _sheet(client.get(reverse("staff:queue_export")))
    assert rows[2][1] == w["p1"].id_number and rows[2][2] == "13912345678"
    assert AuditLog.objects.get(action="queue_export").detail["unmasked"] is True
