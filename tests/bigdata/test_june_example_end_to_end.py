"""DESIGN §1 seed example: validity ends in September; a hospital record of 23 June arrives."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command

from certification.models import Certification, Pensioner
from tests.factories import PensionerFactory

from .conftest import make_id

pytestmark = pytest.mark.django_db


def _json_last_line(capsys) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_hospital_record_of_23_june_extends_validity_to_23_june_next_year(feed, capsys):
    p = PensionerFactory(id_number=make_id(1), valid_until=dt.date(2026, 9, 30))
    path = feed([(p.id_number, "2026-06-23", "HOSP-2026-000123", "张三")])

    call_command("import_evidence", str(path), "--source", "hospital")
    imported = _json_last_line(capsys)
    assert imported == {"batch": imported["batch"], "rows": 1, "accepted": 1, "duplicates": 0, "rejected": 0,
                        "unmatched": 0, "errors_file": None}

    call_command("run_matching", "--today", "2026-07-01")
    out = _json_last_line(capsys)
    assert set(out) == {"extended", "entered_warning", "suspended", "restored", "deceased", "fraud_alerts", "seconds"}
    assert out["extended"] == 1

    p.refresh_from_db()
    assert p.valid_until == dt.date(2027, 6, 23)
    assert p.status == "active"
    cert = Certification.objects.get(pensioner=p)
    assert (cert.method, cert.occurred_on, cert.source, cert.evidence_ref) == (
        "big_data", dt.date(2026, 6, 23), "hospital", "HOSP-2026-000123")


def test_a_second_run_the_same_day_changes_nothing(feed, capsys):
    p = PensionerFactory(id_number=make_id(2), valid_until=dt.date(2026, 9, 30))
    call_command("import_evidence", str(feed([(p.id_number, "20260623", "H-1")])), "--source", "hospital")
    call_command("run_matching", "--today", "2026-07-01")
    capsys.readouterr()

    call_command("run_matching", "--today", "2026-07-01")
    out = _json_last_line(capsys)
    assert {k: v for k, v in out.items() if k != "seconds"} == dict.fromkeys(
        ["extended", "entered_warning", "suspended", "restored", "deceased", "fraud_alerts"], 0)
    assert Certification.objects.filter(pensioner=p).count() == 1
    assert Pensioner.objects.get(pk=p.pk).valid_until == dt.date(2027, 6, 23)


def test_older_evidence_never_shortens_validity(feed, capsys):
    p = PensionerFactory(id_number=make_id(3), valid_until=dt.date(2027, 9, 30))
    call_command("import_evidence", str(feed([(p.id_number, "2026/06/23", "H-2")])), "--source", "hospital")
    call_command("run_matching", "--today", "2026-07-01")
    assert _json_last_line(capsys)["extended"] == 0
    p.refresh_from_db()
    assert p.valid_until == dt.date(2027, 9, 30)
    assert not Certification.objects.filter(pensioner=p).exists()
