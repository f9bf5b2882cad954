"""Case deadlines are working days: Monday–Friday, less public holidays, plus make-up working days (调休)."""

import datetime as dt

import pytest
from django.urls import reverse

from certification.cases import services
from certification.cases.models import Appeal
from certification.cases.rules import WorkCalendar, add_working_days, overdue_opened_before
from certification.cases.selectors import case_rows, cases_for
from certification.cases.workdays import due_date, work_calendar
from certification.models import AuditLog
from tests.factories import UserFactory


def test_three_working_days_from_a_thursday_is_the_next_tuesday():
    assert add_working_days(dt.date(2026, 12, 3), 3) == dt.date(2026, 12, 8)


def test_a_case_opened_on_saturday_counts_from_monday():
    assert add_working_days(dt.date(2026, 12, 5), 1) == dt.date(2026, 12, 7)


def test_overdue_threshold_agrees_with_the_deadline_for_every_opening_day():
    today = dt.date(2026, 12, 9)
    cutoff = overdue_opened_before(today, 3)
    for back in range(0, 30):
        opened = today - dt.timedelta(days=back)
        assert (opened < cutoff) == (add_working_days(opened, 3) < today), opened


# ---- public holidays and make-up working days (调休) ----------------------------------

MID_AUTUMN_2026 = WorkCalendar(holidays=frozenset([dt.date(2026, 9, 25), dt.date(2026, 9, 26), dt.date(2026, 9, 27)]))
NATIONAL_DAY_2026 = WorkCalendar(
    holidays=frozenset(dt.date(2026, 10, d) for d in range(1, 8)),
    workdays=frozenset([dt.date(2026, 9, 20), dt.date(2026, 10, 10)]),
)


def test_a_deadline_across_a_public_holiday_skips_it():
    # Thursday 24 September; Friday 25 is 中秋节: Mon 28, Tue 29, Wed 30.
    assert add_working_days(dt.date(2026, 9, 24), 3, MID_AUTUMN_2026) == dt.date(2026, 9, 30)
    assert add_working_days(dt.date(2026, 9, 24), 3) == dt.date(2026, 9, 29)  # plain weeks: one day early


def test_a_deadline_across_a_make_up_saturday_counts_it():
    # Thursday 8 October; Saturday 10 October is worked (调休): Fri 9, Sat 10, Mon 12.
    assert add_working_days(dt.date(2026, 10, 8), 3, NATIONAL_DAY_2026) == dt.date(2026, 10, 12)
    assert add_working_days(dt.date(2026, 10, 8), 3) == dt.date(2026, 10, 13)
    # Across the whole golden week: Wed 30 Sep, then Thu 8 and Fri 9 October.
    assert add_working_days(dt.date(2026, 9, 29), 3, NATIONAL_DAY_2026) == dt.date(2026, 10, 9)


def test_overdue_threshold_agrees_with_the_deadline_across_holidays():
    for today in (dt.date(2026, 10, 8), dt.date(2026, 10, 12), dt.date(2026, 9, 30)):
        cutoff = overdue_opened_before(today, 3, NATIONAL_DAY_2026)
        for back in range(0, 40):
            opened = today - dt.timedelta(days=back)
            assert (opened < cutoff) == (add_working_days(opened, 3, NATIONAL_DAY_2026) < today), (today, opened)


@pytest.mark.django_db
def test_the_seeded_calendar_gives_the_2026_national_day_deadlines():
    cal = work_calendar()
    assert dt.date(2026, 10, 10) in cal.workdays and dt.date(2026, 10, 1) in cal.holidays
    assert due_date(dt.date(2026, 9, 29)) == dt.date(2026, 10, 9)
    assert due_date(dt.date(2026, 10, 8)) == dt.date(2026, 10, 12)


@pytest.mark.django_db
def test_an_appeal_filed_before_a_holiday_is_due_after_it(w):
    services.appeal_file(pensioner=w["suspended"], filed_by=w["staff"], via="staff", kind="certified",
                         today=dt.date(2026, 9, 24))
    assert Appeal.objects.get(pensioner=w["suspended"]).due_on == dt.date(2026, 9, 30)


@pytest.mark.django_db
def test_a_day_staff_add_in_the_admin_moves_the_deadline_and_is_audited(w, client):
    admin_user = UserFactory(role="admin", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    resp = client.post(reverse("admin:cases_calendarday_add"),
                       {"day": "2026-12-04", "kind": "holiday", "name": "临时放假（演示）"})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    assert AuditLog.objects.filter(action="admin_change", actor=admin_user).exists()
    # Thursday 3 December with Friday 4 off: Mon 7, Tue 8, Wed 9.
    a = services.appeal_file(pensioner=w["suspended"], filed_by=w["staff"], via="staff", kind="certified")
    assert (a.opened_on, a.due_on) == (dt.date(2026, 12, 3), dt.date(2026, 12, 9))
    # The case list shows the stored due date, and the overdue count follows the same calendar.
    rows = case_rows(cases_for(w["staff"]), today=dt.date(2026, 12, 9))
    assert [(r.kind, r.due_on, r.overdue) for r in rows if r.kind == "appeal"] == [("appeal", dt.date(2026, 12, 9), False)]
