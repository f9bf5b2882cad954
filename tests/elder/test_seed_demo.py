"""`seed_demo` (DESIGN §4, issue 12 item 12): a believable city, every status, demo faces, idempotent."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from certification import rules
from certification.dashboards.services import silent_by_office
from certification.faces.models import ReferenceFace
from certification.models import Pensioner, StreetOffice

pytestmark = pytest.mark.django_db


def _run(name: str, *args: str) -> dict:
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_the_demo_city_after_one_night_is_mostly_silent_with_every_status_and_demo_faces():
    data = _run("seed_demo", "--pensioners", "400", "--seed", "3")
    _run("run_nightly")

    by_status = {s: Pensioner.objects.filter(status=s).count() for s in rules.Status}
    assert all(by_status[s] > 0 for s in rules.Status), by_status
    num, den = map(sum, zip(*silent_by_office(rules.today_local()).values(), strict=True))
    assert 0.92 <= num / den <= 0.98, (num, den)  # about 95% confirmed silently (DESIGN §1)

    pensioners = [a for a in data["accounts"] if a["role"] == "pensioner"]
    # The deceased persona signs in too, to try the "I am alive" appeal (issue 10).
    assert {a["status"] for a in pensioners} == {"active", "warning", "suspended", "deceased"}
    for a in pensioners:  # printed with what to try, and the status they are really in
        assert a["note"] and Pensioner.objects.get(id_number=a["username"]).status == a["status"]
    faces = ReferenceFace.objects.filter(pensioner__id_number__in=[a["username"] for a in pensioners])
    assert faces.count() == 2 and {f["enrolled"] for f in data["faces"]} == {True}

    staff = [a for a in data["accounts"] if a["role"] == "staff"]
    offices = [a["street_office"] for a in staff]
    assert len(set(offices)) >= 2  # two of different offices
    assert any(offices.count(o) >= 2 for o in offices)  # and two of the same (two-person confirmations)
    assert any("TOTP" in n for n in data["notes"])  # OTP_REQUIRED is off outside production: said so


def test_running_it_twice_makes_no_second_city():
    first = _run("seed_demo", "--pensioners", "120", "--seed", "4")
    people = set(Pensioner.objects.values_list("id_number", flat=True))
    second = _run("seed_demo", "--pensioners", "120", "--seed", "4")
    assert second["pensioners"] == first["pensioners"] == 120 and second["created"] == 0
    assert set(Pensioner.objects.values_list("id_number", flat=True)) == people
    assert all(f["accepted"] == 0 and f["duplicates"] == f["rows"] for f in second["feeds"])
    assert ReferenceFace.objects.count() == 2
    assert StreetOffice.objects.filter(name="八大关街道").count() == 1
