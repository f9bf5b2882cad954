"""Seed the working-day calendar with the public holidays and make-up working days known
for certain: the State Council notices for 2025 (国办发明电〔2024〕12号) and 2026
(published November 2025), and 1 January 2027 (a statutory holiday by law; the rest of
2027 is entered when its notice is published). Staff maintain the calendar in the admin
(节假日与调休); see docs/death-lifecycle.md for what to enter each year.
"""

import datetime as dt

from django.db import migrations


def _span(first: str, last: str) -> list[dt.date]:
    a, b = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]


# (name, holiday spans, make-up working days)
YEARS = {
    2025: [
        ("元旦", [("2025-01-01", "2025-01-01")], []),
        ("春节", [("2025-01-28", "2025-02-04")], ["2025-01-26", "2025-02-08"]),
        ("清明节", [("2025-04-04", "2025-04-06")], []),
        ("劳动节", [("2025-05-01", "2025-05-05")], ["2025-04-27"]),
        ("端午节", [("2025-05-31", "2025-06-02")], []),
        ("国庆节、中秋节", [("2025-10-01", "2025-10-08")], ["2025-09-28", "2025-10-11"]),
    ],
    2026: [
        ("元旦", [("2026-01-01", "2026-01-03")], ["2026-01-04"]),
        ("春节", [("2026-02-15", "2026-02-23")], ["2026-02-14", "2026-02-28"]),
        ("清明节", [("2026-04-04", "2026-04-06")], []),
        ("劳动节", [("2026-05-01", "2026-05-05")], ["2026-05-09"]),
        ("端午节", [("2026-06-19", "2026-06-21")], []),
        ("中秋节", [("2026-09-25", "2026-09-27")], []),
        ("国庆节", [("2026-10-01", "2026-10-07")], ["2026-09-20", "2026-10-10"]),
    ],
    2027: [
        ("元旦", [("2027-01-01", "2027-01-01")], []),
    ],
}


def seed(apps, schema_editor):
    CalendarDay = apps.get_model("cases", "CalendarDay")
    rows = []
    for entries in YEARS.values():
        for name, spans, workdays in entries:
            rows += [CalendarDay(day=d, kind="holiday", name=name) for a, b in spans for d in _span(a, b)]
            rows += [CalendarDay(day=dt.date.fromisoformat(d), kind="workday", name=name) for d in workdays]
    CalendarDay.objects.bulk_create(rows, ignore_conflicts=True)


def unseed(apps, schema_editor):
    CalendarDay = apps.get_model("cases", "CalendarDay")
    days = [d for entries in YEARS.values() for _n, spans, _w in entries for a, b in spans for d in _span(a, b)]
    days += [dt.date.fromisoformat(d) for entries in YEARS.values() for _n, _s, w in entries for d in w]
    CalendarDay.objects.filter(day__in=days).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_calendarday")]

    operations = [migrations.RunPython(seed, unseed)]
