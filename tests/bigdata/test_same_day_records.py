"""Two records of the same day: the one the night names does not depend on which feed was
imported first (two workers import feeds side by side). The more trusted source wins; on equal
trust, the source code in alphabetical order."""

from __future__ import annotations

from pathlib import Path

import pytest

from certification.models import Certification, StatusChange
from tests.bigdata.conftest import last_json, make_id

pytestmark = pytest.mark.django_db

FIRST, SECOND = make_id(911), make_id(912)


def _roster(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("id_number,name,phone,street_office,monthly_amount,valid_until\n"
                    f"{FIRST},王建国,13900000911,八大关街道,3900.00,2027-01-31\n"
                    f"{SECOND},李秀英,13900000912,八大关街道,3100.00,2027-01-31\n", encoding="utf-8")
    assert last_json("import_pensioners", str(path))["created"] == 2


def _feed(tmp_path: Path, source: str, rows: list[tuple[str, str, str]]) -> None:
    path = tmp_path / f"{source}.csv"
    path.write_text("id_number,event_date,source_ref\n" + "".join(f"{i},{d},{r}\n" for i, d, r in rows),
                    encoding="utf-8")
    assert last_json("import_evidence", str(path), "--source", source)["accepted"] == len(rows)


def test_a_same_day_tie_names_the_more_trusted_source_in_either_import_order(tmp_path):
    _roster(tmp_path)
    # FIRST: the weaker record (transit, trust 2) arrives last and holds the higher evidence id.
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _feed(tmp_path / "a", "outpatient", [(FIRST, "2026-11-05", "MZ-1")])
    _feed(tmp_path / "a", "transit", [(FIRST, "2026-11-05", "GJ-1"), (SECOND, "2026-11-05", "GJ-2")])
    # SECOND: the stronger record (outpatient, trust 3) arrives last.
    _feed(tmp_path / "b", "outpatient", [(SECOND, "2026-11-05", "MZ-2")])

    assert last_json("run_matching", "--today", "2026-12-01")["extended"] == 2

    named = dict(Certification.objects.values_list("pensioner__id_number", "source"))
    assert named == {FIRST: "outpatient", SECOND: "outpatient"}
    refs = set(Certification.objects.values_list("evidence_ref", flat=True))
    assert refs == {"MZ-1", "MZ-2"}


def test_a_later_weak_record_still_beats_an_earlier_strong_one(tmp_path):
    _roster(tmp_path)
    _feed(tmp_path, "outpatient", [(FIRST, "2026-11-04", "MZ-1")])
    _feed(tmp_path, "transit", [(FIRST, "2026-11-05", "GJ-1")])

    assert last_json("run_matching", "--today", "2026-12-01")["extended"] == 1

    cert = Certification.objects.get(pensioner__id_number=FIRST)
    assert (cert.source, cert.evidence_ref, str(cert.occurred_on)) == ("transit", "GJ-1", "2026-11-05")
    assert last_json("show_pensioner", FIRST)["valid_until"] == "2027-11-05"


def test_a_same_day_death_tie_names_the_same_source_in_either_import_order(tmp_path):
    _roster(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    # Both trust 5: cremation before death_civil by code, whichever holds the higher id.
    _feed(tmp_path / "a", "death_civil", [(FIRST, "2026-10-20", "MZ-1")])
    _feed(tmp_path / "a", "cremation", [(FIRST, "2026-10-20", "HH-1"), (SECOND, "2026-10-20", "HH-2")])
    _feed(tmp_path / "b", "death_civil", [(SECOND, "2026-10-20", "MZ-2")])

    assert last_json("run_matching", "--today", "2026-12-01")["deceased"] == 2

    reasons = dict(StatusChange.objects.filter(new_status="deceased").values_list("pensioner__id_number", "reason"))
    assert reasons == {FIRST: "death:cremation", SECOND: "death:cremation"}
