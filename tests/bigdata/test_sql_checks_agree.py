"""The import's SQL checks say exactly what the Python rules say (certification.idnumber, bigdata.parsing).

The PostgreSQL import validates in SQL (bigdata/pgimport.py), a second copy of the
ID and date rules. These tests hold the copy to the original on a generated
population of valid and invalid ID numbers, dates and references: the same
normalised number, the same date, the same reason, row for row.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bigdata import parsing, pgimport
from certification import idnumber

pytestmark = [pytest.mark.django_db, pytest.mark.services]
TODAY = dt.date(2026, 7, 1)
SPACES = [" ", "\t", "\u3000", "\xa0", "\x1c", "\u2003", "\u202f", "\x0b"]
WIDE = str.maketrans("0123456789Xx-/", "０１２３４５６７８９Ｘｘ－／")


def python_verdict(id_raw: str, date_raw: str, ref_raw: str) -> tuple[str | None, dt.date | None, str | None]:
    item = parsing.validate(1, id_raw, date_raw, ref_raw, "", TODAY, "raw")
    if isinstance(item, parsing.BadRow):
        return None, None, item.reason
    return item.id_number, item.event_date, None


def _ids(rng: random.Random) -> list[str]:
    out: list[str] = []
    for _ in range(600):
        birth = dt.date(1880, 1, 1) + dt.timedelta(days=rng.randrange(60_000))
        good = idnumber.make(rng.choice(["370202", "370211", "110101"]), birth, rng.randrange(1000))
        out += [good, good.lower(), good[:17] + rng.choice("0123456789X"), good[:-1], good + "1",
                good.translate(WIDE), rng.choice(SPACES) + good + rng.choice(SPACES)]
        # Impossible birth dates with a correct check digit: Feb 30, month 13, year 1889, year 0000.
        for birth8 in ("19500230", "19501301", "18891231", "00000101", "20000229", "19000229"):
            first17 = good[:6] + birth8 + good[14:17]
            out.append(first17 + idnumber.check_digit(first17))
    out += ["", "   ", "\u3000", "X" * 18, "37020219500102001", "3702021950010200１X",
            "".join(chr(0x0660 + int(c)) for c in idnumber.make("370202", dt.date(1950, 1, 2), 1)),
            "37020219500102+01X", "３７０２０２１９５００１０２００１ｘ"]
    return out


def _dates(rng: random.Random) -> list[str]:
    out: list[str] = []
    for _ in range(400):
        day = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(32_000))
        out += [day.isoformat(), f"{day:%Y%m%d}", f"{day:%Y/%m/%d}", f"{day:%Y-%m/%d}", f"{day:%Y.%m.%d}",
                day.isoformat().translate(WIDE), rng.choice(SPACES) + f"{day:%Y%m%d}", f"{day:%d/%m/%Y}"]
    out += ["", " ", "2026-02-29", "2024-02-29", "2026-13-01", "2026-00-10", "2026-06-00", "2026-06-31",
            "0000-01-01", "9999-12-31", "2026-+1-05", "2026-1-05", "2026-06-2３", "20260701", "20260702",
            "1950-01-01", "1949-12-31", "2026/07/01", "2026 07 01", "٢٠٢٦-٠٧-٠١", "2026-07-01T00:00"]
    return out


def _refs(rng: random.Random) -> list[str]:
    return ["H-1", "", " ", " H-2 ", "\u3000H-3", "R" * 128, "R" * 129, "凭证" * 64, "凭证" * 65, "ｒｅｆ"]


def test_sql_and_python_agree_on_a_generated_population_of_ids_dates_and_references(require_postgres):
    rng = random.Random(20261201)  # noqa: S311 - test data
    ids, dates, refs = _ids(rng), _dates(rng), _refs(rng)
    population = [(i, "2026-06-23", "H-1") for i in ids]
    population += [(idnumber.make("370202", dt.date(1950, 1, 2), 1), d, "H-1") for d in dates]
    population += [(idnumber.make("370202", dt.date(1950, 1, 2), 1), "2026-06-23", r) for r in refs]
    population += [(rng.choice(ids), rng.choice(dates), rng.choice(refs)) for _ in range(3000)]
    sql = pgimport.sql_verdicts(population, today=TODAY)
    mismatches = [(row, python_verdict(*row), got) for row, got in zip(population, sql, strict=True)
                  if python_verdict(*row) != got]
    assert not mismatches, mismatches[:5]
    # The population really covers both sides and every kind of reason.
    reasons = {python_verdict(*row)[2] for row in population}
    assert None in reasons
    for kind in ("校验位", "18位", "出生日期", "日期格式无效", "晚于今天", "1950", "缺少字段", "过长"):
        assert any(r and kind in r for r in reasons), kind


_ID_CHARS = st.sampled_from(list("0123456789Xx ０１２３４５６７８９ｘＸ\u3000٣-/"))
_DATE_CHARS = st.sampled_from(list("0123456789-/ ０２６－／\u3000"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.text(_ID_CHARS, min_size=16, max_size=20), st.text(_DATE_CHARS, min_size=7, max_size=11)),
                min_size=1, max_size=100))
def test_sql_and_python_agree_on_arbitrary_strings_of_id_and_date_characters(require_postgres, rows):
    population = [(i, d, "H-1") for i, d in rows]
    assert pgimport.sql_verdicts(population, today=TODAY) == [python_verdict(*r) for r in population]
