"""Resident ID numbers (GB 11643-1999): 18 characters, ISO 7064 MOD 11-2 check digit."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# ASCII digits only: Python's \d also matches Arabic-Indic and other scripts' digits.
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


class InvalidIdNumber(ValueError):
    """The reason is a short Chinese sentence, shown to users and in error files."""


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: dt.date
    sex: str  # "M" or "F"; the 17th digit is odd for men

    @property
    def region(self) -> str:
        return self.number[:6]


def check_digit(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def normalize(raw: str) -> str:
    """The one form an ID number is checked, stored and looked up in (DESIGN §4).

    Unicode NFKC first (full-width digits and 'Ｘ', typed in Chinese input modes,
    become ASCII; an ideographic space becomes a space), then trimmed, then a
    lower-case x upper-cased. Every entry point (roster, feeds, forms, API) calls
    this, directly or through parse(). The import's SQL path repeats it in SQL
    (bigdata/sql_checks.py; tests/bigdata/test_sql_checks_agree.py).
    """
    raw = raw or ""
    if not raw.isascii():
        raw = unicodedata.normalize("NFKC", raw)
    return raw.strip().upper()


def parse(raw: str) -> ResidentId:
    number = normalize(raw)
    if not _SHAPE.fullmatch(number):
        raise InvalidIdNumber("身份证号须为18位（前17位为数字，最后一位为数字或X）")
    if check_digit(number[:17]) != number[17]:
        raise InvalidIdNumber("身份证号校验位错误")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber("身份证号中的出生日期无效") from None
    if birth.year < 1890:
        raise InvalidIdNumber("身份证号中的出生日期无效")
    return ResidentId(number=number, birth_date=birth, sex="M" if int(number[16]) % 2 else "F")


def is_valid(raw: str) -> bool:
    try:
        parse(raw)
    except InvalidIdNumber:
        return False
    return True


def make(region: str, birth: dt.date, sequence: int) -> str:
    """Build a valid number: used by seed_demo, benchmarks and tests."""
    first17 = f"{region}{birth:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_digit(first17)


def mask(number: str) -> str:
    """370202********123X: region kept, birth date and sequence hidden."""
    if len(number) != 18:
        return "*" * len(number)
    return number[:6] + "*" * 8 + number[14:]


def mask_phone(phone: str) -> str:
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "****" + phone[-4:]


# ---- The pensioner key (issue 14, docs/scale.md §2) ------------------------------------

BUCKETS = 1000  # bucket_of() is 0..999


def bucket_of(id_number: str) -> int:
    """The ID number's three sequence digits (characters 15–17) as 0..999: the partition key.

    A function of the ID number, not of the pensioner's row id, so evidence that
    arrives before its person lands where the person's evidence will be. Total: a
    short number, or one whose three characters are not all ASCII digits (malformed
    roster rows exist in test data; full-width digits are not digits here, as in
    normalize()'s output they never occur), is bucket 0. bucket_sql() says the same
    in SQL (tests/bigdata/test_bucket_agrees.py).
    """
    seq = (id_number or "")[14:17]
    if len(seq) == 3 and all("0" <= c <= "9" for c in seq):
        return int(seq)
    return 0


def bucket_sql(column: str, vendor: str) -> str:
    """bucket_of() as an SQL expression over `column` (a trusted identifier, never a value).

    PostgreSQL: the same text is the expression index on certification_pensioner, so
    the planner matches it only when a query spells it exactly like this.
    """
    seq = f"substr({column}, 15, 3)"
    if vendor == "postgresql":
        return f"(CASE WHEN {seq} ~ '^[0-9][0-9][0-9]$' THEN CAST({seq} AS integer) ELSE 0 END)"
    return f"(CASE WHEN {seq} GLOB '[0-9][0-9][0-9]' THEN CAST({seq} AS integer) ELSE 0 END)"
