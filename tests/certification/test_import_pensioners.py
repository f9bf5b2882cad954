"""`import_pensioners`: bad rows are reported with line and reason; good rows still load."""

import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from certification import idnumber
from certification.models import Pensioner

pytestmark = pytest.mark.django_db
HEADER = "id_number,name,phone,street_office,monthly_amount,valid_until,community,special_group\n"


def good(seq: int) -> str:
    return idnumber.make("370202", dt.date(1950, 1, 2), seq)


def run(path, *args) -> dict:
    out = io.StringIO()
    call_command("import_pensioners", str(path), *args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def write(tmp_path, body: str, encoding="utf-8"):
    path = tmp_path / "roster.csv"
    path.write_text(HEADER + body, encoding=encoding)
    return path


def test_good_rows_load_next_to_every_kind_of_bad_row(tmp_path):
    bad_checksum = good(2)[:17] + ("0" if good(2)[17] != "0" else "1")
    body = (
        f"{good(1)},张三,13900000001,八大关街道,3200.50,2027-03-01,海滨社区,\n"        # line 2: good
        f"{bad_checksum},李四,13900000002,八大关街道,3000,2027-03-01,,\n"              # line 3
        f"{good(3)},王五,13900000003,不存在街道,3000,2027-03-01,,\n"                  # line 4
        f"{good(4)},赵六,13900000004,湛山街道,-10,2027-03-01,,\n"                     # line 5
        f"{good(5)},钱七,13900000005,湛山街道,3000,2027-13-45,,\n"                    # line 6
        f"{good(6)},,13900000006,湛山街道,3000,2027-03-01,,\n"                        # line 7: no name
        f"{good(7)},孙八,13900000007,市南区/湛山街道,2800,20270301,,aged_80\n"         # line 8: good
    )
    result = run(write(tmp_path, body))
    assert result == {"rows": 7, "created": 2, "updated": 0, "rejected": 5, "errors_file": result["errors_file"]}
    with open(result["errors_file"], encoding="utf-8-sig") as fh:
        errors = {int(r["line"]): r["reason"] for r in csv.DictReader(fh)}
    assert set(errors) == {3, 4, 5, 6, 7}
    assert "校验位" in errors[3]
    assert "未知的街道办事处" in errors[4]
    assert "负数" in errors[5]
    assert "日期格式错误" in errors[6]
    assert "缺少字段" in errors[7] and "name" in errors[7]
    p = Pensioner.objects.get(id_number=good(1))
    assert (p.name, str(p.monthly_amount), p.community.name) == ("张三", "3200.50", "海滨社区")
    assert Pensioner.objects.get(id_number=good(7)).special_group == "aged_80"


def test_rerun_updates_rows_in_place(tmp_path):
    run(write(tmp_path, f"{good(1)},张三,13900000001,八大关街道,3000,2027-03-01,,\n"))
    result = run(write(tmp_path, f"{good(1)},张三丰,13900000009,湛山街道,3100,2027-03-01,,\n"))
    assert (result["created"], result["updated"], result["rejected"]) == (0, 1, 0)
    assert result["errors_file"] is None
    p = Pensioner.objects.get(id_number=good(1))
    assert (p.name, p.phone, p.street_office.name, str(p.monthly_amount)) == ("张三丰", "13900000009", "湛山街道", "3100.00")
    assert Pensioner.objects.count() == 1


def test_roster_never_shortens_a_validity_that_certification_extended(tmp_path):
    run(write(tmp_path, f"{good(1)},张三,13900000001,八大关街道,3000,2027-03-01,,\n"))
    Pensioner.objects.filter(id_number=good(1)).update(valid_until=dt.date(2027, 11, 1))
    run(write(tmp_path, f"{good(1)},张三,13900000001,八大关街道,3000,2027-03-01,,\n"))
    assert Pensioner.objects.get(id_number=good(1)).valid_until == dt.date(2027, 11, 1)


def test_gbk_file_is_read(tmp_path):
    path = write(tmp_path, f"{good(1)},张三,13900000001,八大关街道,3000,2027/03/01,,\n", encoding="gbk")
    assert run(path)["created"] == 1
    assert Pensioner.objects.get().name == "张三"


def test_new_person_already_past_the_warning_window_is_suspended_from_the_rule_date(tmp_path):
    result = run(write(tmp_path, f"{good(1)},张三,13900000001,八大关街道,3000,2020-01-15,,\n"))
    p = Pensioner.objects.get()
    assert result["created"] == 1
    assert (p.status, p.suspended_since) == ("suspended", dt.date(2020, 4, 16))


def test_a_wrong_header_fails_the_whole_file_with_a_clear_message(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,name\n1,2\n", encoding="utf-8")
    with pytest.raises(CommandError, match="表头缺少列"):
        run(path)


def test_a_short_row_is_rejected_as_malformed(tmp_path):
    result = run(write(tmp_path, f"{good(1)},张三\n"))
    assert (result["rows"], result["rejected"]) == (1, 1)
