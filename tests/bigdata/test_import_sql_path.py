"""The PostgreSQL import path (bytes COPYed raw, checks in SQL) gives what the portable Python path gives.

Same file, both paths (BIGDATA_IMPORT_PATH=python forces the portable one), into
two sources: the same buckets, the same rejected lines with the same reasons, the
same stored rows. And GBK files go through COPY's own decoding.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging

import pytest

from bigdata.models import Evidence
from bigdata.services import evidence_import, source_get
from certification import idnumber
from tests.factories import PensionerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.services]
TODAY = dt.date(2026, 7, 1)
WIDE = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def _make(n: int) -> str:
    return idnumber.make("370203", dt.date(1947, 5, 6), n)


def _mixed_file(tmp_path, known: list[str]):  # type: ignore[no-untyped-def]
    unknown = idnumber.make("110101", dt.date(1950, 1, 1), 7)
    bad_check = known[1][:17] + ("0" if known[1][17] != "0" else "1")
    lines = [
        "event_date,id_number,source_ref,name",           # columns in another order
        f"2026-06-23,{known[0]},A-1,张三",                  # 2 fast
        f"20260601,{known[1]},A-2,",                        # 3 fast, YYYYMMDD
        f"2026/05/01,{known[2].lower()},A-3,李四",          # 4 lower-case x (if any) / fast
        f"２０２６-０６-０１,{known[3].translate(WIDE)},A-4,王五",  # 5 full-width: residue, matched
        f" 2026-06-02 , {known[4]} , A-5 ,  赵六  ",         # 6 padded: residue, matched
        f"2026-06-03,{unknown},A-6,",                       # 7 unknown: unmatched
        f"2026-06-23,{bad_check},A-7,",                     # 8 check digit
        f"2026-07-02,{known[0]},A-8,",                      # 9 future
        f"1949-12-31,{known[0]},A-9,",                      # 10 before 1950
        f"2026-02-30,{known[0]},A-10,",                     # 11 not a date
        f",{known[0]},A-11,",                               # 12 missing date
        "only,two",                                         # 13 malformed
        "",                                                 # 14 blank: not a row
        f'2026-06-04,{known[5]},"A-12, quoted",孙七',        # 15 quoted: Python-checked, good
        f'2026-06-04,"{known[5]},A-13,',                    # 16 unclosed quote
        f"2026-06-05,{known[6]},A-1,重复",                  # 17 A-1 again, another bucket: a second record
        f"2026-06-06,{known[6]},{'R' * 129},",              # 18 ref too long
        f"2026-06-07,{known[7]},A-14,{'名' * 70}",          # 19 long name: cut to 64
        "   ",                                              # 20 blank
        f"2026-06-08,{known[7]}X,A-15,",                    # 21 19 characters
        f"2026-06-09,{known[0]},A-1,重复",                  # 22 repeats A-1 in its bucket: duplicate
    ]
    path = tmp_path / "mixed.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def _errors(result) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    if not result.errors_file:
        return []
    with open(result.errors_file, encoding="utf-8-sig", newline="") as fh:
        return [(r["line"], r["reason"]) for r in csv.DictReader(fh)]


def _stored(code: str) -> list[tuple]:
    return sorted(Evidence.objects.filter(source__code=code)
                  .values_list("source_ref", "id_number", "event_date", "name", "pensioner_id"))


def test_the_sql_path_and_the_python_path_agree_on_a_file_with_every_kind_of_row(require_postgres, tmp_path,
                                                                                  monkeypatch, caplog):
    known = [PensionerFactory(id_number=_make(i)).id_number for i in range(8)]
    path = _mixed_file(tmp_path, known)
    caplog.set_level(logging.INFO, logger="bigdata")
    monkeypatch.setenv("BIGDATA_IMPORT_PATH", "python")
    slow = evidence_import(path=path, source=source_get("hospital"), today=TODAY)
    monkeypatch.setenv("BIGDATA_IMPORT_PATH", "sql")
    caplog.clear()
    fast = evidence_import(path=path, source=source_get("transit"), today=TODAY)
    assert "SQL path" in caplog.text
    buckets = ("rows", "accepted", "duplicates", "rejected", "unmatched")
    assert [getattr(fast, k) for k in buckets] == [getattr(slow, k) for k in buckets] == [19, 8, 1, 9, 1]
    assert _errors(fast) == _errors(slow)
    assert [line for line, _ in _errors(fast)] == ["8", "9", "10", "11", "12", "13", "16", "18", "21"]
    assert _stored("transit") == _stored("hospital")
    by_ref = {r[0]: r for r in _stored("transit")}
    # The first line of a repeated reference wins within its bucket (line 22 is a duplicate of
    # line 2); the same reference with an ID number in another bucket is a second record, on
    # both paths (the unique key is (source, source_ref, bucket): docs/scale.md §2).
    assert sorted((r[1], r[2]) for r in _stored("transit") if r[0] == "A-1") == sorted(
        [(known[0], dt.date(2026, 6, 23)), (known[6], dt.date(2026, 6, 5))])
    assert by_ref["A-4"][1] == known[3] and by_ref["A-4"][4] is not None  # full-width matched
    assert by_ref["A-5"][1:4] == (known[4], dt.date(2026, 6, 2), "赵六")
    assert len(by_ref["A-14"][3]) == 64


def test_a_gbk_file_goes_through_copy_and_its_names_are_read(require_postgres, tmp_path, caplog):
    person = PensionerFactory(id_number=_make(20))
    path = tmp_path / "gbk.csv"
    path.write_bytes(f"id_number,event_date,source_ref,name\n{person.id_number},2026-06-23,G-1,张三\n".encode("gbk"))
    caplog.set_level(logging.INFO, logger="bigdata")
    result = evidence_import(path=path, source=source_get("hospital"), encoding="gbk", today=TODAY)
    assert "SQL path" in caplog.text
    assert (result.accepted, result.rejected) == (1, 0)
    assert Evidence.objects.get(source_ref="G-1").name == "张三"


def test_undecodable_bytes_fall_back_to_the_python_path_and_only_those_lines_are_rejected(require_postgres,
                                                                                         tmp_path, caplog):
    person = PensionerFactory(id_number=_make(21))
    path = tmp_path / "mixed-bytes.csv"
    path.write_bytes(b"id_number,event_date,source_ref,name\n"
                     + f"{person.id_number},2026-06-23,B-1,".encode() + "张三".encode("gbk") + b"\n"
                     + f"{person.id_number},2026-06-22,B-2,Li\n".encode())
    caplog.set_level(logging.INFO, logger="bigdata")
    result = evidence_import(path=path, source=source_get("hospital"), encoding="utf-8", today=TODAY)
    assert "Python path" in caplog.text
    assert (result.accepted, result.rejected) == (1, 1)
    [(line, reason)] = _errors(result)
    assert line == "2" and "编码" in reason
