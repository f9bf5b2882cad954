import datetime as dt

import pytest

from certification import idnumber


def test_a_valid_number_gives_birth_date_and_sex():
    number = idnumber.make("370202", dt.date(1950, 3, 7), 123)
    rid = idnumber.parse(number)
    assert rid.birth_date == dt.date(1950, 3, 7)
    assert rid.sex == "M"  # sequence 123: the 17th digit 3 is odd
    assert rid.region == "370202"


def test_known_public_example_with_x_check_digit():
    # GB 11643 worked example: 11010519491231002X
    rid = idnumber.parse("11010519491231002x")
    assert rid.number.endswith("X")
    assert rid.sex == "F"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("370202195003071231", "校验位"),
        ("37020219500307123", "18位"),
        ("3702021950030712AX", "18位"),
        ("370202195002301236", "出生日期"),
    ],
)
def test_invalid_numbers_are_rejected_with_a_reason(raw, reason):
    if reason == "出生日期":
        raw = raw[:17] + idnumber.check_digit(raw[:17])
    with pytest.raises(idnumber.InvalidIdNumber, match=reason):
        idnumber.parse(raw)


def test_masking_keeps_region_and_last_four():
    assert idnumber.mask("37020219500307123X") == "370202********123X"
    assert idnumber.mask_phone("13912345678") == "139****5678"
