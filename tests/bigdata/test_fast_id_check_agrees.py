"""The import's fast ID check accepts exactly what certification.idnumber.parse accepts."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from bigdata.parsing import id_valid_fast, parse_date
from certification import idnumber


@settings(max_examples=3000)
@given(st.text(alphabet="0123456789X", min_size=16, max_size=19))
def test_fast_check_agrees_with_the_rule_on_arbitrary_strings(s):
    assert id_valid_fast(s) == idnumber.is_valid(s)


@settings(max_examples=2000)
@given(st.dates(min_value=dt.date(1880, 1, 1), max_value=dt.date(2030, 12, 31)), st.integers(0, 999),
       st.sampled_from(["370202", "370211", "110101"]), st.sampled_from(list("0123456789X")))
def test_fast_check_agrees_on_well_formed_numbers_with_every_check_character(birth, seq, region, last):
    number = idnumber.make(region, birth, seq)[:17] + last
    assert id_valid_fast(number) == idnumber.is_valid(number)


def test_three_date_formats_and_impossible_dates():
    assert parse_date("2026-06-23") == parse_date("20260623") == parse_date("2026/06/23") == dt.date(2026, 6, 23)
    assert parse_date("2026-02-30") is None
    assert parse_date("2026-06/23") is None
    assert parse_date("23/06/2026") is None
