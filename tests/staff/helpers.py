"""Shared set-up for the staff tests: two offices, a staff member each, an admin."""

from __future__ import annotations

import datetime as dt

from certification.models import Community
from tests.factories import PensionerFactory, UserFactory, office

TODAY = dt.date(2026, 11, 30)


def two_offices():
    a, b = office("八大关街道"), office("中山路街道")
    staff_a = UserFactory(role="staff", offices=[a], last_name="王", first_name="丽")
    staff_a2 = UserFactory(role="staff", offices=[a], last_name="赵", first_name="强")
    staff_b = UserFactory(role="staff", offices=[b])
    admin = UserFactory(role="admin")
    return a, b, staff_a, staff_a2, staff_b, admin


def warning_person(office_, days_into_warning: int = 10, **kw):
    community = kw.pop("community", None) or Community.objects.filter(street_office=office_).first()
    return PensionerFactory(street_office=office_, community=community, status="warning",
                            valid_until=TODAY - dt.timedelta(days=days_into_warning), **kw)


def suspended_person(office_, **kw):
    return PensionerFactory(street_office=office_, status="suspended", valid_until=dt.date(2026, 7, 1),
                            suspended_since=dt.date(2026, 10, 2), **kw)
