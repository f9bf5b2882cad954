"""DESIGN §5 silent pass rate (issue 9 item 6): matched qualifying evidence inside the window counts,
not big-data Certification rows."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from certification import idnumber
from certification.dashboards.services import silent_by_office
from certification.services import certification_record
from tests.factories import PensionerFactory, office

pytestmark = pytest.mark.django_db


def _import(tmp_path, source: str, rows: list[tuple[str, str, str]]) -> dict:
    path = tmp_path / f"{source}.csv"
    path.write_text("id_number,event_date,source_ref\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows),
                    encoding="utf-8")
    out = io.StringIO()
    call_command("import_evidence", str(path), "--source", source, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_a_counter_certification_followed_by_an_in_window_hospital_record_gives_one_of_one(tmp_path):
    home = office("八大关街道")
    p = PensionerFactory(id_number=idnumber.make("370202", dt.date(1949, 2, 3), 7), street_office=home,
                         valid_until=dt.date(2026, 9, 30), enrolled_on=dt.date(2019, 5, 1))
    certification_record(pensioner=p, method="counter", occurred_on=dt.date(2026, 11, 2), today=dt.date(2026, 11, 2))
    # The hospital record (dated June) arrives after the counter visit: it moves nothing.
    assert _import(tmp_path, "hospital", [(p.id_number, "2026-06-23", "H-1")])["accepted"] == 1
    out = io.StringIO()
    call_command("run_matching", "--today", "2026-12-01", stdout=out)
    p.refresh_from_db()
    assert p.valid_until == dt.date(2027, 11, 2)
    assert not p.certifications.filter(method="big_data").exists()

    assert silent_by_office(dt.date(2026, 12, 1))[home.pk] == (1, 1)


def test_only_qualifying_matched_evidence_inside_the_window_counts(tmp_path):
    home = office("湛山街道")
    make = lambda n: idnumber.make("370202", dt.date(1950, 6, 1), n)  # noqa: E731
    seen = PensionerFactory(id_number=make(1), street_office=home, valid_until=dt.date(2027, 5, 1))
    too_old = PensionerFactory(id_number=make(2), street_office=home, valid_until=dt.date(2027, 5, 1))
    only_death_kind = PensionerFactory(id_number=make(3), street_office=home, valid_until=dt.date(2027, 5, 1))
    PensionerFactory(id_number=make(4), street_office=home, valid_until=dt.date(2027, 5, 1),
                     enrolled_on=dt.date(2026, 3, 1))  # enrolled inside the window: not in the denominator
    _import(tmp_path, "transit", [(seen.id_number, "2026-12-01", "T-1"), (too_old.id_number, "2025-12-01", "T-2"),
                                  (make(50), "2026-10-01", "T-NOBODY")])
    _import(tmp_path, "hukou_cancel", [(only_death_kind.id_number, "2026-10-01", "HK-1")])

    assert silent_by_office(dt.date(2026, 12, 1))[home.pk] == (1, 3)
