"""Two offices, two staff members in office A (the two-person steps), one in B, an admin.

The clock is frozen on a Thursday, so a 3-working-day deadline falls on the Tuesday.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from certification.models import Role, User
from tests.factories import PensionerFactory, UserFactory, office

THURSDAY = dt.date(2026, 12, 3)
DUE = dt.date(2026, 12, 8)  # 3 working days later: Fri, Mon, Tue


@pytest.fixture(autouse=True)
def _celery_eager():
    from config.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = old


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Four staff accounts per test: the production hasher's 1M iterations cost seconds each on CI.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Look-up counters live in the cache; ids are reused after each test's rollback.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def clock():
    # 10:00 in Shanghai on the Thursday.
    with time_machine.travel(dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC), tick=False) as t:
        yield t


@pytest.fixture
def w(db, clock, _fast_passwords):
    a, b = office("八大关街道"), office("中山路街道")
    staff = UserFactory(role=Role.STAFF, offices=[a], last_name="王", first_name="丽")
    staff2 = UserFactory(role=Role.STAFF, offices=[a], last_name="赵", first_name="强")
    staff_b = UserFactory(role=Role.STAFF, offices=[b], last_name="钱", first_name="红")
    admin = UserFactory(role=Role.ADMIN)
    suspended = PensionerFactory(street_office=a, status="suspended", valid_until=dt.date(2026, 7, 1),
                                 suspended_since=dt.date(2026, 10, 2), name="孙秀英")
    other = PensionerFactory(street_office=b, status="suspended", valid_until=dt.date(2026, 7, 1),
                             suspended_since=dt.date(2026, 10, 2), name="周建国")
    return {"a": a, "b": b, "staff": staff, "staff2": staff2, "staff_b": staff_b, "admin": admin,
            "suspended": suspended, "other": other}


def pensioner_user(p) -> User:
    return User.objects.create(username=f"p{p.id_number}", role=Role.PENSIONER, pensioner=p, first_name=p.name,
                               phone=p.phone)


def relative_user(phone: str = "13800000001") -> User:
    return User.objects.create(username=f"r{phone}", role=Role.RELATIVE, phone=phone)


@pytest.fixture
def feed(tmp_path):
    """A partner's CSV feed file from (id_number, event_date, source_ref) rows."""
    counter = {"n": 0}

    def write(rows):
        counter["n"] += 1
        path = tmp_path / f"feed{counter['n']}.csv"
        path.write_text("id_number,event_date,source_ref\n" + "".join(",".join(r) + "\n" for r in rows),
                        encoding="utf-8")
        return path

    return write
