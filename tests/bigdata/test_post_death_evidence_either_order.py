"""Evidence dated after a death never extends validity and is never a certification, whichever
arrives first (DESIGN §1; issue 9 finding 1), tried with the plain commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from bigdata.models import FraudAlert
from certification.models import Certification
from tests.bigdata.conftest import last_json, make_id

pytestmark = pytest.mark.django_db

ID = make_id(901)


def _roster(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("id_number,name,phone,street_office,monthly_amount,valid_until\n"
                    f"{ID},王建国,13900000901,八大关街道,3900.00,2027-10-31\n", encoding="utf-8")
    assert last_json("import_pensioners", str(path))["created"] == 1


def _feed(tmp_path: Path, source: str, day: str, ref: str) -> None:
    path = tmp_path / f"{source}-{ref}.csv"
    path.write_text(f"id_number,event_date,source_ref\n{ID},{day},{ref}\n", encoding="utf-8")
    assert last_json("import_evidence", str(path), "--source", source)["accepted"] == 1


def test_a_death_record_arriving_after_the_cards_use_voids_the_certification_and_raises_the_alert(tmp_path):
    _roster(tmp_path)
    _feed(tmp_path, "hospital", "2026-11-05", "ZY-1")
    first = last_json("run_matching", "--today", "2026-12-01")
    assert first["extended"] == 1
    assert last_json("show_pensioner", ID)["valid_until"] == "2027-11-05"

    _feed(tmp_path, "death_civil", "2026-10-20", "MZ-1")
    out = last_json("run_matching", "--today", "2026-12-02")

    assert (out["deceased"], out["fraud_alerts"]) == (1, 1)
    shown = last_json("show_pensioner", ID)
    assert shown["status"] == "deceased" and shown["death_date"] == "2026-10-20"
    assert shown["certifications"] == []  # the voided one is listed nowhere for the pensioner
    assert shown["valid_until"] == "2027-10-31"  # back to what the roster gave
    assert shown["fraud_alerts"] == 1
    cert = Certification.objects.get(pensioner__id_number=ID)  # kept, marked void, for staff
    assert cert.voided_at is not None and cert.void_reason == "after_death"
    alert = FraudAlert.objects.get(pensioner__id_number=ID)
    assert (alert.source, alert.source_ref, str(alert.event_date), str(alert.death_date)) == (
        "hospital", "ZY-1", "2026-11-05", "2026-10-20")
    # The next night raises nothing twice.
    assert last_json("run_matching", "--today", "2026-12-03")["fraud_alerts"] == 0


def test_a_death_record_arriving_first_keeps_later_evidence_from_ever_certifying(tmp_path):
    _roster(tmp_path)
    _feed(tmp_path, "death_civil", "2026-10-20", "MZ-2")
    assert last_json("run_matching", "--today", "2026-12-01")["deceased"] == 1
    _feed(tmp_path, "hospital", "2026-11-05", "ZY-2")

    out = last_json("run_matching", "--today", "2026-12-02")

    assert (out["extended"], out["fraud_alerts"]) == (0, 1)
    shown = last_json("show_pensioner", ID)
    assert (shown["valid_until"], shown["certifications"], shown["fraud_alerts"]) == ("2027-10-31", [], 1)
    assert not Certification.objects.filter(pensioner__id_number=ID).exists()
