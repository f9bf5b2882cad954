"""The nightly dashboard snapshot (run_nightly's last step).

`snapshot_build(today=…)` computes every panel per street office with a handful of
set-based GROUP BY queries (STYLE §7: never a Python loop over pensioners), rolls the
office figures up to districts and the city, and replaces that day's rows in one
transaction, so a rerun the same day gives the same rows.

Definitions (docs/notes/issue-4.md repeats them for the reader):

* window: (T − 12 months, T], calendar months (rules.add_months).
* silent pass rate (DESIGN §5): denominator = pensioners enrolled on or before the
  window start (enrolled before the window) and not deceased at T (no death date, or
  a death date after T); numerator = those of them with at least one matched
  qualifying big-data evidence record (bigdata Evidence, source kind qualifying)
  dated inside the window, whether or not it moved valid_until.
* trend, per calendar month m of the last 12: the silent rate at T_m = min(last day
  of m, T); warnings = StatusChange active → warning; suspensions = → suspended;
  restorations = suspended → active/warning, all by effective_on.
* channels: Certification rows by method, per month and over the window.
* evidence source: distinct pensioners with a big-data Certification of that source
  in the window ("confirmed"), and those whose only big-data source in the window
  was that one ("alone").
* money: people suspended now and their monthly amount withheld; suspensions,
  back-pay statements (created / paid) and deaths in the window; overpayments open
  to recover.
* face checks: read from the faces app when it is installed (see _face_rows).
"""


from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from certification import rules
from certification.models import (
    BackPay,
    Certification,
    Method,
    Overpayment,
    Pensioner,
    StatusChange,
    StreetOffice,
)

from .models import Figure, Level, Snapshot

Key = tuple[str, str]  # (metric, key)
OfficeRows = dict[int, dict[Key, Decimal]]

AGE_BANDS = ("60-69", "70-79", "80-89", "90+")

_P = Pensioner._meta.db_table
_C = Certification._meta.db_table
_SC = StatusChange._meta.db_table
_BP = BackPay._meta.db_table
_OP = Overpayment._meta.db_table


def window_start(today: dt.date) -> dt.date:
    return rules.add_months(today, -12)


def trend_months(today: dt.date) -> list[dt.date]:
    """The 12 calendar months ending with today's month, oldest first."""
    first = rules.month_start(today)
    return [rules.add_months(first, -i) for i in range(11, -1, -1)]


def month_key(day: dt.date) -> str:
    return day.strftime("%Y-%m")


def age_band(age: int) -> str | None:
    if age < 60:
        return None
    if age >= 90:
        return "90+"
    lo = age // 10 * 10
    return f"{lo}-{lo + 9}"


def _rows(sql: str, params: Iterable[object]) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, list(params))
        return cur.fetchall()


def _d(value: object) -> Decimal:
    return Decimal(str(value or 0))


def _month_of(raw: object) -> str:
    # SQLite hands back text, PostgreSQL a date; both start YYYY-MM.
    return str(raw)[:7]


def _evidence_tables() -> tuple[str, str]:
    """The big-data evidence and source tables, read through the app registry: the
    dashboards leaf does not import the big-data leaf (.importlinter)."""
    return (apps.get_model("bigdata", "Evidence")._meta.db_table,
            apps.get_model("bigdata", "EvidenceSource")._meta.db_table)


def silent_by_office(at: dt.date) -> dict[int, tuple[int, int]]:
    """{office_id: (numerator, denominator)} for the window (at − 12 months, at] (DESIGN §5).

    The numerator counts matched qualifying evidence inside the window, not big-data
    Certification rows: a certification row exists only for the record that moved
    valid_until, so someone certified at the counter in March and seen in hospital in
    June has no big-data certification, yet was confirmed silently in June. Evidence
    dated after a death cannot count: the denominator holds only people alive at `at`.
    """
    start = window_start(at)
    ev, src = _evidence_tables()
    sql = (
        f"SELECT p.street_office_id, COUNT(h.pensioner_id), COUNT(*) FROM {_P} p "  # noqa: S608 - table names from Model._meta, values are bound parameters
        f"LEFT JOIN (SELECT DISTINCT e.pensioner_id FROM {ev} e JOIN {src} s ON s.id = e.source_id "
        f"WHERE s.kind = %s AND e.pensioner_id IS NOT NULL "
        f"AND e.event_date > %s AND e.event_date <= %s) h ON h.pensioner_id = p.id "
        f"WHERE p.enrolled_on <= %s AND (p.death_date IS NULL OR p.death_date > %s) "
        f"GROUP BY p.street_office_id"
    )
    return {o: (int(n), int(d)) for o, n, d in _rows(sql, ["qualifying", start, at, start, at])}


def _office_rows(today: dt.date) -> OfficeRows:
    out: OfficeRows = defaultdict(dict)

    def put(office: int, metric: str, key: str, value: object) -> None:
        k = (metric, key)
        out[office][k] = out[office].get(k, Decimal(0)) + _d(value)

    start = window_start(today)
    months = trend_months(today)
    first_month = months[0]

    # Silent pass rate now, and at each month's end for the trend.
    for office, (num, den) in silent_by_office(today).items():
        put(office, "silent", "numerator", num)
        put(office, "silent", "denominator", den)
    for m in months:
        at = min(rules.add_months(m, 1) - dt.timedelta(days=1), today)
        for office, (num, den) in silent_by_office(at).items():
            put(office, "trend", f"{month_key(m)}|silent_num", num)
            put(office, "trend", f"{month_key(m)}|silent_den", den)

    # Counts by status, and the warning queue (warning + suspended are in the queue).
    for office, st, n in _rows(f"SELECT street_office_id, status, COUNT(*) FROM {_P} GROUP BY 1, 2", []):  # noqa: S608 - table names from Model._meta, values are bound parameters
        put(office, "status", st, n)
        if st in (rules.Status.WARNING, rules.Status.SUSPENDED):
            put(office, "queue", st, n)
            put(office, "queue", "total", n)
    for office, n in _rows(
        f"SELECT street_office_id, COUNT(*) FROM {_P} WHERE status IN ('warning', 'suspended') "  # noqa: S608 - table names from Model._meta, values are bound parameters
        f"AND face_attempts_exhausted_on IS NOT NULL GROUP BY 1", []
    ):
        put(office, "queue", "face_exhausted", n)

    # Certifications by channel: per month of the last 12, and over the window.
    for office, month, method, n in _rows(
        f"SELECT p.street_office_id, c.occurred_on, c.method, COUNT(*) FROM {_C} c "  # noqa: S608 - table names from Model._meta, values are bound parameters
        f"JOIN {_P} p ON p.id = c.pensioner_id WHERE c.occurred_on >= %s AND c.occurred_on <= %s "
        f"GROUP BY 1, 2, 3", [first_month, today]
    ):
        put(office, "channel", f"{_month_of(month)}|{method}", n)
    for office, method, n in _rows(
        f"SELECT p.street_office_id, c.method, COUNT(*) FROM {_C} c JOIN {_P} p ON p.id = c.pensioner_id "  # noqa: S608 - table names from Model._meta, values are bound parameters
        f"WHERE c.occurred_on > %s AND c.occurred_on <= %s GROUP BY 1, 2", [start, today]
    ):
        put(office, "channel_total", method, n)

    # Monthly trend of status changes (by effective_on).
    for office, month, old, new, n in _rows(
        f"SELECT p.street_office_id, s.effective_on, s.old_status, s.new_status, COUNT(*) FROM {_SC} s "  # noqa: S608 - table names from Model._meta, values are bound parameters
        f"JOIN {_P} p ON p.id = s.pensioner_id WHERE s.effective_on >= %s AND s.effective_on <= %s "
        f"GROUP BY 1, 2, 3, 4", [first_month, today]
    ):
        m = _month_of(month)
        if old == rules.Status.ACTIVE and new == rules.Status.WARNING:
            put(office, "trend", f"{m}|warnings", n)
        if new == rules.Status.SUSPENDED:
            put(office, "trend", f"{m}|suspensions", n)
        if old == rules.Status.SUSPENDED and new in (rules.Status.ACTIVE, rules.Status.WARNING):
            put(office, "trend", f"{m}|restorations", n)

    # Per evidence source: confirmed, and confirmed by this source alone.
    window_bd = "c.method = %s AND c.occurred_on > %s AND c.occurred_on <= %s"
    for office, source, n in _rows(
        f"SELECT p.street_office_id, c.source, COUNT(DISTINCT c.pensioner_id) FROM {_C} c "  # noqa: S608 - table names from Model._meta, values are bound parameters
        f"JOIN {_P} p ON p.id = c.pensioner_id WHERE {window_bd} GROUP BY 1, 2",
        [Method.BIG_DATA, start, today],
    ):
        put(office, "source", f"{source}|confirmed", n)
    for office, source, n in _rows(
        f"SELECT office, src, COUNT(*) FROM (SELECT c.pensioner_id, p.street_office_id AS office, "  # noqa: S608 - table names from Model._meta, values are bound parameters
        f"MIN(c.source) AS src, COUNT(DISTINCT c.source) AS ns FROM {_C} c JOIN {_P} p ON p.id = c.pensioner_id "
        f"WHERE {window_bd} GROUP BY c.pensioner_id, p.street_office_id) t WHERE ns = 1 GROUP BY office, src",
        [Method.BIG_DATA, start, today],
    ):
        put(office, "source", f"{source}|alone", n)

    # Money.
    for office, n, amount in _rows(
        f"SELECT street_office_id, COUNT(*), SUM(monthly_amount) FROM {_P} WHERE status = 'suspended' GROUP BY 1", []  # noqa: S608 - table names from Model._meta, values are bound parameters
    ):
        put(office, "money", "suspended_now", n)
        put(office, "money", "suspended_monthly", amount)
    for office, n in _rows(
        f"SELECT p.street_office_id, COUNT(*) FROM {_SC} s JOIN {_P} p ON p.id = s.pensioner_id "  # noqa: S608 - table names from Model._meta, values are bound parameters
        f"WHERE s.new_status = 'suspended' AND s.effective_on > %s AND s.effective_on <= %s GROUP BY 1",
        [start, today],
    ):
        put(office, "money", "suspensions_12m", n)
    for office, n, total, paid in _rows(
        f"SELECT p.street_office_id, COUNT(*), SUM(b.total), "  # noqa: S608 - table names from Model._meta, values are bound parameters
        f"SUM(CASE WHEN b.paid_on IS NOT NULL THEN b.total ELSE 0 END) FROM {_BP} b "
        f"JOIN {_P} p ON p.id = b.pensioner_id WHERE b.restored_on > %s AND b.restored_on <= %s GROUP BY 1",
        [start, today],
    ):
        put(office, "money", "backpay_count_12m", n)
        put(office, "money", "backpay_total_12m", total)
        put(office, "money", "backpay_paid_12m", paid)
    for office, n in _rows(
        f"SELECT street_office_id, COUNT(*) FROM {_P} WHERE death_date > %s AND death_date <= %s GROUP BY 1",  # noqa: S608 - table names from Model._meta, values are bound parameters
        [start, today],
    ):
        put(office, "money", "deaths_12m", n)
    for office, n, total in _rows(
        f"SELECT p.street_office_id, COUNT(*), SUM(o.total) FROM {_OP} o JOIN {_P} p ON p.id = o.pensioner_id "  # noqa: S608 - table names from Model._meta, values are bound parameters
        f"WHERE o.state = 'open' GROUP BY 1", []
    ):
        put(office, "money", "overpay_open", n)
        put(office, "money", "overpay_open_total", total)

    for office, key, n in _face_rows(start, today):
        put(office, "face", key, n)
    return out


def face_source_ready() -> bool:
    """The faces app (issue 6) is installed and migrated: its FaceAttempt rows feed the panel."""
    return _face_model() is not None


_face_table_seen: set[str] = set()


def _face_model():  # type: ignore[no-untyped-def]
    if not apps.is_installed("certification.faces"):
        return None
    try:
        model = apps.get_model("faces", "FaceAttempt")
    except LookupError:
        return None
    table = model._meta.db_table
    # Installed before its migration has run (a fresh checkout mid-deploy): no panel, no crash.
    # Once seen, the table stays: skip the catalog query on every page view.
    if table not in _face_table_seen:
        if table not in connection.introspection.table_names():
            return None
        _face_table_seen.add(table)
    return model


def face_reason_labels() -> dict[str, str]:
    model = _face_model()
    if model is None:
        return {}
    return {str(k): str(v) for k, v in model._meta.get_field("reason").choices if k}


def _face_rows(start: dt.date, today: dt.date) -> list[tuple[int, str, int]]:
    """Decided face checks in the window by age band: attempts, passed, failures by reason."""
    model = _face_model()
    if model is None:
        return []
    # Age is the pure rule (rules.age_on) on each person's birth date at the check:
    # SQL groups by (office, birth date, day, result), Python bands; bounded by the
    # number of distinct birth dates, not of attempts.
    qs = (
        model.objects.filter(occurred_on__gt=start, occurred_on__lte=today, passed__isnull=False)
        .values_list("pensioner__street_office_id", "pensioner__birth_date", "occurred_on", "passed", "reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple[int, str, str], int] = defaultdict(int)
    for office, birth, day, passed, reason, n in qs.iterator(chunk_size=5000):
        band = age_band(rules.age_on(birth, day))
        if band is None:
            continue
        counts[(office, band, "attempts")] += n
        if passed:
            counts[(office, band, "passed")] += n
        else:
            counts[(office, band, f"reason:{reason or 'unknown'}")] += n
    return [(office, f"{band}|{what}", n) for (office, band, what), n in counts.items()]


def _roll_up(office_rows: OfficeRows) -> dict[tuple[str, int], dict[Key, Decimal]]:
    district_of = dict(StreetOffice.objects.values_list("id", "district_id"))
    scopes: dict[tuple[str, int], dict[Key, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    scopes[(Level.CITY, 0)]  # the city always has a scope, even when empty
    for office, figures in office_rows.items():
        for level, scope in ((Level.OFFICE, office), (Level.DISTRICT, district_of[office]), (Level.CITY, 0)):
            target = scopes[(level, scope)]
            for k, v in figures.items():
                target[k] += v
    return scopes


def snapshot_build(*, today: dt.date) -> dict[str, object]:
    """Compute and store the day's dashboard rows; the JSON-able summary goes to run_nightly."""
    started = time.monotonic()
    scopes = _roll_up(_office_rows(today))
    figures = [
        (level, scope, metric, key, value)
        for (level, scope), rows in scopes.items()
        for (metric, key), value in rows.items()
    ]
    with transaction.atomic():
        Snapshot.objects.filter(day=today).delete()
        snap = Snapshot.objects.create(day=today, built_at=timezone.now(), rows=len(figures))
        Figure.objects.bulk_create(
            [Figure(snapshot=snap, level=lv, scope_id=s, metric=m, key=k, value=v) for lv, s, m, k, v in figures],
            batch_size=5000,
        )
        snap.seconds = round(time.monotonic() - started, 3)
        snap.save(update_fields=["seconds"])
    return {"day": today.isoformat(), "rows": len(figures), "seconds": snap.seconds}
