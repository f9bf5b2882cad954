"""Staff live in Excel (issue 12 items 9-10): widths, a frozen header, a filter; no negative days."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from certification.dashboards.services import snapshot_build
from certification.models import Role
from certification.staff.services import EXPORT_HEADERS
from tests.dashboards.population import TODAY, build_population
from tests.factories import UserFactory
from tests.staff.helpers import suspended_person, two_offices, warning_person

pytestmark = pytest.mark.django_db


def test_the_queue_export_has_widths_a_frozen_header_a_filter_and_no_negative_days(client, time_machine):
    time_machine.move_to("2026-11-30 10:00 +08:00", tick=False)
    a, _b, staff_a, *_ = two_offices()
    warning_person(a, days_into_warning=80, name="张三")
    suspended_person(a, name="李四")
    client.force_login(staff_a)
    ws = load_workbook(io.BytesIO(client.get(reverse("staff:queue_export")).content)).active

    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:N3" and len(EXPORT_HEADERS) == 14
    assert ws.column_dimensions["B"].width >= 20  # an 18-digit ID number fits
    assert all(ws.column_dimensions[c].width >= 6 for c in "ABCDEFGHIJKLMN")
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["张三"][8] == 12
    # A suspended person has no "days to suspension" (it was -60), but the date it happened.
    assert rows["李四"][8] is None
    assert rows["李四"][13] == dt.datetime(2026, 10, 2)


def test_every_dashboard_table_downloads_with_widths_frozen_headers_and_a_filter(client):
    build_population(n=20)
    snapshot_build(today=TODAY)
    client.force_login(UserFactory(role=Role.ADMIN))
    ws = load_workbook(io.BytesIO(client.get(reverse("dashboards:export", args=["city", 0, "sources"])).content)).active
    header = [c.value for c in ws[2]]
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref.startswith("A2:")
    # Each column is at least as wide as its Chinese header (two units per character).
    for i, text in enumerate(header, start=1):
        letter = ws.cell(row=2, column=i).column_letter
        assert ws.column_dimensions[letter].width >= min(2 * len(str(text)), 40)
