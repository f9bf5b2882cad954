"""ID numbers typed in a Chinese input mode (full-width digits, 'ｘ') are the same person everywhere (DESIGN §4).

NFKC, trim, upper-case x, before any check: in the roster, in feeds, in the sign-in
form and in staff look-ups.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from bigdata.models import Evidence
from certification import idnumber
from certification.models import Pensioner
from certification.selectors import pensioner_for_staff
from tests.factories import PensionerFactory, UserFactory

pytestmark = pytest.mark.django_db
ROSTER_HEADER = "id_number,name,phone,street_office,monthly_amount,valid_until\n"


def full_width(number: str) -> str:
    """The same number as a Chinese input method types it: U+FF10…U+FF19, 'ｘ' for x, a trailing ideographic space."""
    wide = "".join(chr(0xFF10 + int(c)) if c.isdigit() else "ｘ" for c in number)
    return "\u3000" + wide + "\u3000"


def number_ending_in(last: str) -> str:
    for seq in range(1000):
        n = idnumber.make("370202", dt.date(1950, 3, 4), seq)
        if n[17] == last:
            return n
    raise AssertionError(last)


def _json_out(out: io.StringIO) -> dict:
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_normalize_turns_full_width_digits_and_x_into_the_ascii_number():
    ascii_x = number_ending_in("X")
    assert idnumber.normalize(full_width(ascii_x)) == ascii_x
    assert idnumber.parse(full_width(ascii_x)).number == ascii_x


def test_a_full_width_number_ending_in_a_digit_is_accepted_not_a_check_digit_error():
    ascii_7 = number_ending_in("7")
    assert idnumber.parse(full_width(ascii_7)).number == ascii_7
    # Arabic-Indic digits are digits to Python's \d, but not ID digits: a shape error, never stored.
    eastern = "".join(chr(0x0660 + int(c)) for c in ascii_7)
    with pytest.raises(idnumber.InvalidIdNumber, match="18位"):
        idnumber.parse(eastern)


def test_a_full_width_roster_row_updates_the_existing_person_instead_of_creating_a_second(tmp_path):
    ascii_x = number_ending_in("X")
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER_HEADER + f"{ascii_x},张三,13900000001,八大关街道,3900,2027-10-31\n", encoding="utf-8")
    out = io.StringIO()
    call_command("import_pensioners", str(path), stdout=out)
    assert _json_out(out)["created"] == 1
    path.write_text(ROSTER_HEADER + f"{full_width(ascii_x)},张三,13900000001,八大关街道,4100,2027-10-31\n",
                    encoding="utf-8")
    out = io.StringIO()
    call_command("import_pensioners", str(path), stdout=out)
    result = _json_out(out)
    assert (result["created"], result["updated"], result["rejected"]) == (0, 1, 0)
    assert list(Pensioner.objects.values_list("id_number", "monthly_amount")) == [(ascii_x, 4100)]


def test_a_feed_row_with_a_full_width_number_is_matched_not_unmatched(tmp_path, settings, capsys):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    person = PensionerFactory(id_number=number_ending_in("X"))
    other = PensionerFactory(id_number=number_ending_in("3"))
    path = tmp_path / "feed.csv"
    path.write_text("id_number,event_date,source_ref\n"
                    f"{full_width(person.id_number)},２０２６-０６-２３,H-1\n"
                    f"{full_width(other.id_number)},2026-06-24,H-2\n", encoding="utf-8")
    capsys.readouterr()
    call_command("import_evidence", str(path), "--source", "hospital")
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (out["accepted"], out["unmatched"], out["rejected"]) == (2, 0, 0), out
    assert set(Evidence.objects.values_list("id_number", "pensioner_id", "event_date")) == {
        (person.id_number, person.pk, dt.date(2026, 6, 23)), (other.id_number, other.pk, dt.date(2026, 6, 24))}


def test_a_feed_row_with_a_full_width_bad_number_gives_the_real_reason(tmp_path, settings, capsys):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    good = number_ending_in("5")
    wrong_check = good[:17] + "6"
    path = tmp_path / "feed.csv"
    path.write_text("id_number,event_date,source_ref\n"
                    f"{full_width(good)},2026-06-23,H-1\n{full_width(wrong_check)},2026-06-23,H-2\n",
                    encoding="utf-8")
    capsys.readouterr()
    call_command("import_evidence", str(path), "--source", "hospital")
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (out["unmatched"], out["rejected"]) == (1, 1)
    with open(out["errors_file"], encoding="utf-8-sig", newline="") as fh:
        [error] = list(csv.DictReader(fh))
    assert (error["line"], error["reason"]) == ("3", "身份证号校验位错误")


def test_pensioner_sign_in_with_a_full_width_number_reaches_the_same_person(client, sent_sms):
    p = PensionerFactory(id_number=number_ending_in("X"), phone="13911117777")
    resp = client.post(reverse("certification:pensioner_login"), {"id_number": full_width(p.id_number).strip()})
    assert resp.status_code == 302
    [sms] = sent_sms()
    assert sms["phone"] == "13911117777"
    assert client.session["signin_id_number"] == p.id_number


def test_staff_look_up_by_a_full_width_number_finds_the_person():
    p = PensionerFactory(id_number=number_ending_in("X"))
    staff = UserFactory(offices=[p.street_office])
    assert pensioner_for_staff(staff, id_number=full_width(p.id_number)).pk == p.pk
