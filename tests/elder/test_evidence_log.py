"""DESIGN §4 `evidence` (issue 9 item 5): every matched qualifying record of the last 12 months.

show_pensioner, the pensioner's page and GET /api/v1/me/ list each source that confirmed
the person, not only the record that moved valid_until. Records dated after a death and
voided certifications appear in neither list. Driven through the real commands.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from certification import idnumber
from certification.models import Certification, Role
from tests.factories import PensionerFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = "2026-12-01"


def _id(n: int) -> str:
    return idnumber.make("370202", dt.date(1947, 5, 6), n)


def _run(name: str, *args: str) -> dict:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def _feed(tmp_path: Path, source: str, rows: list[tuple[str, str, str]]) -> None:
    path = tmp_path / f"{source}-{len(list(tmp_path.iterdir()))}.csv"
    path.write_text("id_number,event_date,source_ref\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows),
                    encoding="utf-8")
    _run("import_evidence", str(path), "--source", source)


def test_four_sources_on_four_days_are_all_listed_though_one_moved_the_date(tmp_path):
    p = PensionerFactory(id_number=_id(1), valid_until=dt.date(2026, 9, 30))
    _feed(tmp_path, "hospital", [(p.id_number, "2026-06-23", "H-1")])
    _feed(tmp_path, "transit", [(p.id_number, "2026-08-02", "T-1"), (p.id_number, "2026-08-02", "T-2")])
    _feed(tmp_path, "dibao", [(p.id_number, "2026-10-15", "D-1")])
    _feed(tmp_path, "health_check", [(p.id_number, "2026-11-20", "HC-1")])
    _feed(tmp_path, "medical_insurance", [(p.id_number, "2025-11-30", "M-OLD")])  # outside (T − 12 months, T]
    _run("run_matching", "--today", TODAY)

    data = _run("show_pensioner", p.id_number, "--today", TODAY)
    assert data["valid_until"] == "2027-11-20"
    assert data["evidence"] == [
        {"source": "health_check", "event_date": "2026-11-20"},
        {"source": "dibao", "event_date": "2026-10-15"},
        {"source": "transit", "event_date": "2026-08-02"},  # two rides on one day: one line
        {"source": "hospital", "event_date": "2026-06-23"},
    ]
    # Matching records only the record that moved the date as a certification.
    assert len(data["certifications"]) < len(data["evidence"])


def test_the_window_is_open_at_twelve_months_back_and_closed_today(tmp_path):
    p = PensionerFactory(id_number=_id(2), valid_until=dt.date(2026, 9, 30))
    _feed(tmp_path, "outpatient", [(p.id_number, "2025-12-01", "O-EDGE"), (p.id_number, "2025-12-02", "O-IN")])
    _run("run_matching", "--today", TODAY)
    data = _run("show_pensioner", p.id_number, "--today", TODAY)
    assert data["evidence"] == [{"source": "outpatient", "event_date": "2025-12-02"}]


def test_records_dated_after_a_death_and_voided_certifications_are_listed_nowhere(tmp_path):
    p = PensionerFactory(id_number=_id(3), valid_until=dt.date(2026, 9, 30))
    _feed(tmp_path, "hospital", [(p.id_number, "2026-07-01", "H-ALIVE")])
    _feed(tmp_path, "transit", [(p.id_number, "2026-11-05", "T-AFTER")])  # the card kept being used
    _run("run_matching", "--today", "2026-11-10")
    _feed(tmp_path, "death_civil", [(p.id_number, "2026-10-20", "MZ-1")])
    _run("run_matching", "--today", TODAY)
    # Whatever the writer did with the post-death certification, a voided one is hidden.
    Certification.objects.filter(pensioner=p, occurred_on__gt=dt.date(2026, 10, 20)).update(
        voided_at=timezone.now(), void_reason="post_death")

    data = _run("show_pensioner", p.id_number, "--today", TODAY)
    assert data["death_date"] == "2026-10-20"
    assert data["evidence"] == [{"source": "hospital", "event_date": "2026-07-01"}]
    assert all(c["occurred_on"] <= "2026-10-20" for c in data["certifications"])


def test_unmatched_and_death_records_are_not_evidence_of_life(tmp_path):
    p = PensionerFactory(id_number=_id(4), valid_until=dt.date(2027, 9, 30))
    _feed(tmp_path, "hospital", [(_id(99), "2026-06-01", "H-NOBODY")])  # a valid ID of no pensioner
    _feed(tmp_path, "hukou_cancel", [(p.id_number, "2026-06-01", "HK-1")])
    _run("run_matching", "--today", TODAY)
    assert _run("show_pensioner", p.id_number, "--today", TODAY)["evidence"] == []


@time_machine.travel(dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC), tick=False)
def test_the_pensioner_page_and_the_api_list_every_source(tmp_path, client):
    p = PensionerFactory(id_number=_id(5), valid_until=dt.date(2026, 9, 30))
    _feed(tmp_path, "hospital", [(p.id_number, "2026-06-23", "H-1")])
    _feed(tmp_path, "vaccination", [(p.id_number, "2026-10-09", "V-1")])
    _feed(tmp_path, "counter_visit", [(p.id_number, "2026-03-03", "C-1")])
    _run("run_matching", "--today", TODAY)
    user = UserFactory(username="p5", role=Role.PENSIONER)
    user.pensioner = p
    user.save()
    client.force_login(user)

    me = client.get("/api/v1/me/").json()
    assert me["evidence"] == [
        {"source": "vaccination", "event_date": "2026-10-09"},
        {"source": "hospital", "event_date": "2026-06-23"},
        {"source": "counter_visit", "event_date": "2026-03-03"},
    ]
    page = client.get("/me/").content.decode()
    for line in ("2026年10月9日 · 疫苗接种记录", "2026年6月23日 · 医院住院/出院记录", "2026年3月3日 · 社保窗口现场办事"):
        assert line in page
