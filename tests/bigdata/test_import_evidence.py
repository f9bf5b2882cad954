"""import_evidence (DESIGN §4): every row in exactly one bucket, bad rows with line and reason."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from bigdata.models import Evidence, EvidenceBatch
from tests.factories import PensionerFactory

from .conftest import make_id

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 7, 1)


def _run(capsys, path: Path, *extra: str) -> dict:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    call_command("import_evidence", str(path), "--source", "hospital", *extra)
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["rows"] == out["accepted"] + out["duplicates"] + out["rejected"] + out["unmatched"]
    return out


def _errors(out: dict) -> list[dict[str, str]]:
    with open(out["errors_file"], encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def known() -> str:
    return PensionerFactory(id_number=make_id(10)).id_number


@pytest.fixture(autouse=True)
def _frozen_today(time_machine):  # type: ignore[no-untyped-def]
    time_machine.move_to(dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC))


def test_every_bad_row_kind_is_rejected_with_its_line_and_reason_and_good_rows_survive(feed, capsys, known):
    bad_checksum = make_id(11)[:17] + ("0" if make_id(11)[17] != "0" else "1")
    path = feed([
        (known, "2026-06-23", "R-1"),              # line 2: good
        (bad_checksum, "2026-06-23", "R-2"),       # line 3: bad checksum
        (known, "2026-07-02", "R-3"),              # line 4: future date
        (known, "1949-12-31", "R-4"),              # line 5: before 1950
        (known, "", "R-5"),                        # line 6: missing field
        "only,two",                                # line 7: malformed
        (known, "2026-02-30", "R-7"),              # line 8: not a date
        (known, "20260601", "R-8"),                # line 9: good (YYYYMMDD)
        '"unclosed,2026-06-01,R-9',                # line 10: malformed quoting
        (known, "2026/05/01", "R-10"),             # line 11: good (YYYY/MM/DD)
    ])
    out = _run(capsys, path)
    assert (out["rows"], out["accepted"], out["rejected"], out["duplicates"], out["unmatched"]) == (10, 3, 7, 0, 0)
    reasons = {int(e["line"]): e["reason"] for e in _errors(out)}
    assert set(reasons) == {3, 4, 5, 6, 7, 8, 10}
    assert "校验位" in reasons[3]
    assert "晚于今天" in reasons[4]
    assert "1950" in reasons[5]
    assert "缺少字段" in reasons[6] and "event_date" in reasons[6]
    assert "格式错误" in reasons[7] and "格式错误" in reasons[10]
    assert "日期格式无效" in reasons[8]
    stored = sorted(Evidence.objects.values_list("source_ref", "event_date"))
    assert stored == [("R-1", dt.date(2026, 6, 23)), ("R-10", dt.date(2026, 5, 1)), ("R-8", dt.date(2026, 6, 1))]


def test_gbk_file_is_detected_and_names_are_read(feed, capsys, known):
    path = feed([(known, "2026-06-23", "GBK-1", "张三丰"), (make_id(12), "2026-06-01", "GBK-2", "李四")],
                encoding="gbk")
    out = _run(capsys, path)
    assert (out["accepted"], out["unmatched"], out["rejected"]) == (1, 1, 0)
    assert Evidence.objects.get(source_ref="GBK-1").name == "张三丰"
    assert EvidenceBatch.objects.get(pk=out["batch"]).encoding == "gbk"


def test_gbk_file_with_explicit_encoding(feed, capsys, known):
    out = _run(capsys, feed([(known, "2026-06-23", "G-1", "王五")], encoding="gbk"), "--encoding", "gbk")
    assert out["accepted"] == 1
    assert Evidence.objects.get(source_ref="G-1").name == "王五"


def test_utf8_with_bom_reads_the_header(feed, capsys, known):
    out = _run(capsys, feed([(known, "2026-06-23", "BOM-1", "赵六")], encoding="utf-8-sig"))
    assert (out["accepted"], out["rejected"]) == (1, 0)
    assert Evidence.objects.get(source_ref="BOM-1").name == "赵六"


def test_json_lines_are_accepted_with_the_same_rules(feed, capsys, known):
    path = feed([(known, "2026-06-23", "J-1", "张三"), "{not json", (known, "2027-01-01", "J-3", "")], fmt="jsonl")
    out = _run(capsys, path)
    assert (out["rows"], out["accepted"], out["rejected"]) == (3, 1, 2)
    assert {int(e["line"]) for e in _errors(out)} == {2, 3}


def test_importing_the_same_file_twice_adds_nothing(feed, capsys, known):
    path = feed([(known, "2026-06-23", "D-1"), (make_id(13), "2026-06-23", "D-2"), ("bad", "2026-06-23", "D-3")])
    first = _run(capsys, path)
    assert (first["accepted"], first["unmatched"], first["rejected"], first["duplicates"]) == (1, 1, 1, 0)
    second = _run(capsys, path)
    assert (second["accepted"], second["unmatched"], second["rejected"], second["duplicates"]) == (0, 0, 1, 2)
    assert Evidence.objects.count() == 2


def test_a_duplicate_inside_one_file_keeps_the_first_line(feed, capsys, known):
    out = _run(capsys, feed([(known, "2026-06-23", "DUP"), (known, "2026-06-01", "DUP")]))
    assert (out["accepted"], out["duplicates"]) == (1, 1)
    assert Evidence.objects.get(source_ref="DUP").event_date == dt.date(2026, 6, 23)


def test_unknown_id_numbers_are_unmatched_not_errors_and_are_kept(feed, capsys):
    out = _run(capsys, feed([(make_id(14), "2026-06-23", "U-1")]))
    assert (out["unmatched"], out["rejected"], out["errors_file"]) == (1, 0, None)
    assert Evidence.objects.get(source_ref="U-1").pensioner_id is None


def test_a_file_without_the_required_header_fails_loudly(feed):
    path = feed(["370202194803010011,2026-06-23,X"], header="a,b,c")
    with pytest.raises(CommandError, match="表头"):
        call_command("import_evidence", str(path), "--source", "hospital")
    assert EvidenceBatch.objects.get().status == EvidenceBatch.Status.FAILED


def test_unknown_or_disabled_source_is_refused(feed, known):
    from bigdata.models import EvidenceSource

    with pytest.raises(CommandError, match="未知"):
        call_command("import_evidence", str(feed([(known, "2026-06-23", "S-1")])), "--source", "nope")
    EvidenceSource.objects.filter(code="transit").update(enabled=False)
    with pytest.raises(CommandError, match="停用"):
        call_command("import_evidence", str(feed([(known, "2026-06-23", "S-1")])), "--source", "transit")


def test_a_gbk_file_forced_as_utf8_rejects_the_undecodable_lines_and_keeps_the_rest(feed, capsys, known):
    path = feed([(known, "2026-06-23", "F-1", "张三"), (known, "2026-06-22", "F-2", "Li")], encoding="gbk")
    out = _run(capsys, path, "--encoding", "utf-8")
    assert (out["accepted"], out["rejected"]) == (1, 1)
    assert "编码" in _errors(out)[0]["reason"]
