"""The one writer of pensioner effects (STYLE §8, issue 9).

Every change to a pensioner's validity, status, suspension or death goes through
`effects_apply`, and with it every write those changes cause:

* the pensioner row (valid_until, status, suspended_since, death_date), one UPDATE;
* a `StatusChange` row per change of status (processed_at empty: schedule_due claims it);
* back-pay: one `BackPay` statement and one `BackPayLine` per month that the new
  valid_until covers and that was not paid (rules.back_pay_months, against the ledger);
* on a death: the `Overpayment` case for the months paid after the death month
  (rules.overpaid_months_in_ledger), and big-data certifications dated after the death
  are voided, valid_until falling back to the roster's date and the remaining ones;
* on a revoked death: the overpayment case cancelled, and an amount already recovered
  set as its `refund`, which the next roster to close pays back once;
* `AuditLog` rows: one per row that names an actor or an audit action, or that moves
  money or a death, and one summary row per batch.

It takes a *set* of rows `(pensioner, valid_until | death_date, reason, actor)`: a list
of `Effect` for the single-person services (certification_record, the death services),
or a SQL `SELECT` for the nightly jobs (matching, transitions), which hand it millions.
It is set-based throughout: a fixed number of statements whatever the number of rows,
each an INSERT … SELECT or UPDATE … FROM over temporary tables, on PostgreSQL and SQLite
alike. Where a rule needs calendar arithmetic (suspension dates, D + 12 months, which
1sts a date covers) Python maps each *distinct* date through certification.rules into a
small table that SQL joins, so the rules keep one home;
tests/certification/test_effects_agree_with_rules.py checks SQL and rules agree.

The input rows, by column (`EFFECT_COLUMNS`):
- pensioner_id: one row per pensioner per call.
- valid_until: the new validity. For the living it only ever moves later (a date not
  later than the current one changes nothing but the status, which is recomputed from
  it: this is how the transitions use it). `exact=1` sets it as given, earlier too (a
  revoked death, say). For the deceased it is ignored unless `exact=1`.
- death_date: the person is deceased from this date (ignored for the already deceased).
- revive=1: a revoked death (issue 10): death_date is cleared and the status follows
  valid_until again; pass `unpaid_since` (the first month not paid since the death)
  for the months before the ledger.
- unpaid_since: the first month the payment system did not pay, before the ledger;
  default: the suspension date of a suspended person.
- reason: StatusChange.reason and the audit detail (e.g. "certified:counter", "death:cremation").
- actor_id, action, detail (JSON text): the audit row for a person's action.
- ref: the caller's own id for the row (matching: the evidence id), kept in the work table.

After `effects_apply` returns, the temporary table `fx_work` (one row per pensioner
that changed: pensioner_id, ref, old_* and new_* values) stays readable on the same
connection until the next call, e.g. for the matching's certification insert.
"""

# SQL below is built from table names in Model._meta, fixed fragments and the caller's
# SELECT (code, never user input); every value is a bound parameter.

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from . import rules
from .models import (
    AuditLog,
    BackPay,
    BackPayLine,
    Certification,
    LedgerEntry,
    Overpayment,
    Pensioner,
    RosterMonth,
    StatusChange,
)

logger = logging.getLogger(__name__)

_P = Pensioner._meta.db_table
_SC = StatusChange._meta.db_table
_BP = BackPay._meta.db_table
_BPL = BackPayLine._meta.db_table
_O = Overpayment._meta.db_table
_C = Certification._meta.db_table
_L = LedgerEntry._meta.db_table
_A = AuditLog._meta.db_table

# (name, SQL type, default expression when the caller's SELECT leaves it out)
EFFECT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("pensioner_id", "bigint", ""),
    ("valid_until", "date", "CAST(NULL AS date)"),
    ("death_date", "date", "CAST(NULL AS date)"),
    ("exact", "integer", "0"),
    ("revive", "integer", "0"),
    ("unpaid_since", "date", "CAST(NULL AS date)"),
    ("reason", "varchar(64)", "''"),
    ("actor_id", "bigint", "CAST(NULL AS bigint)"),
    ("action", "varchar(64)", "CAST(NULL AS varchar(64))"),
    ("detail", "text", "CAST(NULL AS text)"),
    ("ref", "bigint", "CAST(NULL AS bigint)"),
)
_NAMES = [c[0] for c in EFFECT_COLUMNS]

# Serialises the writer against a roster closing (certification.ledger): back-pay is
# computed against the ledger, so a month must not close between the two. Writers
# share it (the matching's chunks run in parallel); a closing takes it alone.
LEDGER_LOCK_KEY = 0x6C656467  # "ledg"

VOID_AFTER_DEATH = "after_death"

# A death this call records (the already deceased keep theirs).
_NEW_DEATHS = "w.new_death IS NOT NULL AND w.old_status <> 'deceased'"


@dataclass(frozen=True)
class Effect:
    """One row for the writer (see the module docstring for each field)."""

    pensioner_id: int
    reason: str
    valid_until: dt.date | None = None
    death_date: dt.date | None = None
    exact: bool = False
    revive: bool = False
    unpaid_since: dt.date | None = None
    actor_id: int | None = None
    action: str | None = None
    detail: Mapping[str, Any] | None = None
    ref: int | None = None

    def as_row(self) -> tuple[Any, ...]:
        return (self.pensioner_id, self.valid_until, self.death_date, int(self.exact), int(self.revive),
                self.unpaid_since, self.reason[:64], self.actor_id, self.action,
                json.dumps(dict(self.detail), ensure_ascii=False, default=str) if self.detail is not None else None,
                self.ref)


@dataclass(frozen=True)
class Source:
    """The nightly jobs' input: column expressions over a FROM clause (no Python rows)."""

    columns: Mapping[str, str]
    from_sql: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def select(self) -> str:
        unknown = set(self.columns) - set(_NAMES)
        if unknown:
            raise ValueError(f"unknown effect columns {sorted(unknown)}")
        cols = ", ".join(f"{self.columns.get(n, d)} AS {n}" for n, _t, d in EFFECT_COLUMNS)
        return f"SELECT {cols} FROM {self.from_sql}"  # noqa: S608 - _meta names and fixed SQL, values bound


@dataclass
class EffectCounts:
    changed: int = 0
    extended: int = 0
    status_changes: dict[tuple[str, str], int] = field(default_factory=dict)
    back_pay_statements: int = 0
    back_pay_lines: int = 0
    deceased: int = 0
    overpayments: int = 0
    voided: int = 0
    overpayments_cancelled: int = 0
    refunds: int = 0  # recovered overpayments to pay back (a revoked death)

    def moved(self, old: Iterable[str] | None, new: Iterable[str] | None) -> int:
        return sum(n for (o, w), n in self.status_changes.items()
                   if (old is None or o in old) and (new is None or w in new))


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _x(sql: str, params: Mapping[str, Any] | None = None) -> int:
    with connection.cursor() as cur:
        cur.execute(sql, params or {})
        return cur.rowcount


def _rows(sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params or {})
        return cur.fetchall()


def _temp(name: str, columns: str) -> None:
    # Dropped first: a caller's transaction may hold the last call's tables.
    _x(f"DROP TABLE IF EXISTS {'pg_temp' if _pg() else 'temp'}.{name}")
    _x(f"CREATE TEMP TABLE {name} ({columns})")


def as_date(value: object) -> dt.date:
    # SQLite hands dates back as text from raw cursors.
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


_TEMPS = ("fx_in", "fx_work", "fx_bp", "fx_since", "fx_months", "fx_fallback", "fx_extend", "fx_op")


def effects_cleanup() -> None:
    """Drop the writer's temporary tables (a long-lived connection need not keep a night's fx_work)."""
    for name in _TEMPS:
        _x(f"DROP TABLE IF EXISTS {'pg_temp' if _pg() else 'temp'}.{name}")


def ledger_lock(*, exclusive: bool = False) -> None:
    """Transaction-scoped: writers share it, a roster closing holds it alone (PostgreSQL; SQLite has one writer)."""
    if _pg():
        fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        _x(f"SELECT {fn}(%(k)s)", {"k": LEDGER_LOCK_KEY})


def _json_object(pairs: Sequence[tuple[str, str]]) -> str:
    args = ", ".join(f"'{k}', {v}" for k, v in pairs)
    return f"jsonb_build_object({args})" if _pg() else f"json_object({args})"


def _distinct(a: str, b: str) -> str:
    return f"{a} IS DISTINCT FROM {b}" if _pg() else f"{a} IS NOT {b}"


@transaction.atomic
def effects_apply(*, today: dt.date, rows: Sequence[Effect] | None = None, source: Source | None = None,
                  now: dt.datetime | None = None) -> EffectCounts:
    """Apply a set of pensioner effects (module docstring). Give `rows` or `source`."""
    if (rows is None) == (source is None):
        raise ValueError("give rows or source")
    now = now or timezone.now()
    ledger_lock()
    params: dict[str, Any] = {"today": today, "now": now, "warn_floor": rules.earliest_unsuspended_valid_until(today),
                              "run_month": rules.month_start(today)}
    if rows is not None:
        _temp("fx_in", ", ".join(f"{n} {t}" for n, t, _d in EFFECT_COLUMNS))
        if rows:
            with connection.cursor() as cur:
                cur.executemany(f"INSERT INTO fx_in ({', '.join(_NAMES)}) VALUES ({', '.join(['%s'] * len(_NAMES))})",  # noqa: S608 - _meta names and fixed SQL, values bound
                                [r.as_row() for r in rows])
        select = f"SELECT {', '.join(_NAMES)} FROM fx_in"  # noqa: S608 - _meta names and fixed SQL, values bound
    else:
        assert source is not None
        select = source.select()
        params.update(source.params)
    jit = _jit_off()
    counts = _apply(select, params)
    _jit_restore(jit)
    return counts


def _jit_off() -> str | None:
    """JIT off for the writer's statements (PostgreSQL), the caller's setting kept to restore.

    Its statements are bound by index inserts and row locks, not by expression
    evaluation, so compiled expressions buy nothing; but the back-pay INSERT's estimated
    cost (a nested loop over fx_months with the ledger subplan) passes
    jit_optimize_above_cost, and compiling it took 0.59 s of its 0.70 s at 200k pensioners
    (auto_explain, docs/performance.md). Transaction-local: a rollback restores it too.
    """
    if not _pg():
        return None
    was = str(_rows("SELECT current_setting('jit')")[0][0])
    _x("SELECT set_config('jit', 'off', true)")
    return was


def _jit_restore(was: str | None) -> None:
    if was is not None:
        _x("SELECT set_config('jit', %(v)s, true)", {"v": was})


def _apply(select: str, params: dict[str, Any]) -> EffectCounts:
    counts = EffectCounts()
    steps: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now_t = time.perf_counter()
        steps[name] = round(now_t - clock, 3)
        clock = now_t

    counts.changed = _work(select, params)
    lap("work")
    if not counts.changed:
        return counts
    # One pass over fx_work for everything the later steps need to know (a scan of a
    # million-row temporary table costs about a second): status moves, extensions,
    # deaths, revivals, the suspensions to date, the earliest month money may touch.
    profile = _rows(
        "SELECT old_status, new_status, CASE WHEN new_status = 'suspended' AND new_since IS NULL THEN new_vu END, "
        "COUNT(*), SUM(CASE WHEN new_vu > old_vu THEN 1 ELSE 0 END), "
        "MIN(CASE WHEN new_status <> 'deceased' THEN unpaid_since END), "
        "MIN(CASE WHEN new_status = 'deceased' AND old_status <> 'deceased' THEN new_death END), "
        "SUM(CASE WHEN actor_id IS NOT NULL OR action IS NOT NULL OR money = 1 THEN 1 ELSE 0 END) "
        "FROM fx_work GROUP BY 1, 2, 3")
    moves: dict[tuple[str, str], int] = {}
    suspend_dates: set[dt.date] = set()
    lows: list[dt.date] = []
    named = new_deaths = revived = 0
    for o, n, suspend_vu, c, e, low_unpaid, low_death, n_named in profile:
        moves[(o, n)] = moves.get((o, n), 0) + int(c)
        counts.extended += int(e or 0) if n != "deceased" else 0
        new_deaths += int(c) if n == "deceased" and o != "deceased" else 0
        revived += int(c) if o == "deceased" and n != "deceased" else 0
        named += int(n_named or 0)
        if suspend_vu is not None:
            suspend_dates.add(as_date(suspend_vu))
        lows.extend(as_date(v) for v in (low_unpaid, low_death) if v is not None)
    counts.status_changes = {k: v for k, v in moves.items() if k[0] != k[1]}
    lap("profile")
    _suspension_dates(suspend_dates)
    if new_deaths:
        counts.voided = _void_after_death(params)
    if _months_table(params, lows):
        counts.deceased, counts.overpayments = _deaths(params, new_deaths)
        lap("deaths")
        counts.back_pay_statements, counts.back_pay_lines = _back_pay(params)
        lap("back_pay")
    if revived:
        counts.overpayments_cancelled, counts.refunds = _revived_overpayments()
    _status_changes(params)
    lap("status_changes")
    _x(
        f"UPDATE {_P} SET valid_until = w.new_vu, status = w.new_status, suspended_since = w.new_since, "  # noqa: S608 - _meta names and fixed SQL, values bound
        f"death_date = w.new_death, updated_at = %(now)s FROM fx_work w WHERE {_P}.id = w.pensioner_id",
        params,
    )
    lap("pensioners")
    if named or new_deaths or counts.back_pay_lines:
        _audit(params)
    _audit_batch(counts)
    lap("audit")
    if counts.changed > 1000:
        logger.info("effects_apply %s rows, steps %s", counts.changed, steps)
    return counts


def _count(sql: str, params: Mapping[str, Any] | None = None) -> int:
    return int(_rows(sql, params)[0][0] or 0)


def _work(select: str, params: dict[str, Any]) -> int:
    """fx_work: each input row joined to its pensioner, the new values computed; rows that change nothing dropped."""
    _temp("fx_work", (
        "pensioner_id bigint PRIMARY KEY, ref bigint, reason varchar(64), actor_id bigint, action varchar(64), "
        "detail text, old_status varchar(16), old_vu date, old_since date, old_death date, new_status varchar(16), "
        "new_vu date, new_since date, new_death date, unpaid_since date, amount numeric(12, 2), enrolled date, "
        "roster_vu date, money integer"
    ))
    _temp("fx_bp", "pensioner_id bigint, month date, amount numeric(12, 2)")
    # new_vu: the living extend (never shorter) unless exact; the dead keep theirs unless exact.
    # new_death: an accepted death acts on the living only; revive clears it.
    inner = (
        f"SELECT i.pensioner_id, i.ref, i.reason, i.actor_id, i.action, i.detail, "  # noqa: S608 - _meta names and fixed SQL, values bound
        f"p.status AS old_status, p.valid_until AS old_vu, p.suspended_since AS old_since, p.death_date AS old_death, "
        f"CASE WHEN i.exact = 1 AND i.valid_until IS NOT NULL THEN i.valid_until "
        f"     WHEN p.status <> 'deceased' AND i.valid_until > p.valid_until THEN i.valid_until "
        f"     ELSE p.valid_until END AS new_vu, "
        f"CASE WHEN i.revive = 1 THEN CAST(NULL AS date) WHEN p.status = 'deceased' THEN p.death_date "
        f"     ELSE i.death_date END AS new_death, "
        f"COALESCE(i.unpaid_since, CASE WHEN p.status = 'suspended' THEN p.suspended_since END) AS unpaid_since, "
        f"p.monthly_amount AS amount, p.enrolled_on AS enrolled, p.roster_valid_until AS roster_vu, "
        f"CASE WHEN i.revive = 1 OR i.unpaid_since IS NOT NULL THEN 1 ELSE 0 END AS money "
        f"FROM ({select}) i JOIN {_P} p ON p.id = i.pensioner_id"
    )
    status = (
        "CASE WHEN x.new_death IS NOT NULL THEN 'deceased' WHEN x.new_vu >= %(today)s THEN 'active' "
        "WHEN x.new_vu >= %(warn_floor)s THEN 'warning' ELSE 'suspended' END"
    )
    cols = ("pensioner_id, ref, reason, actor_id, action, detail, old_status, old_vu, old_since, old_death, "
            "new_status, new_vu, new_since, new_death, unpaid_since, amount, enrolled, roster_vu, money")
    changed = _x(
        f"INSERT INTO fx_work ({cols}) "  # noqa: S608 - _meta names and fixed SQL, values bound
        f"SELECT pensioner_id, ref, reason, actor_id, action, detail, old_status, old_vu, old_since, old_death, "
        f"new_status, new_vu, "
        # A suspension whose date does not move keeps it (so does a death); others get theirs below.
        f"CASE WHEN new_status = 'suspended' AND old_status = 'suspended' AND new_vu = old_vu THEN old_since "
        f"     WHEN new_status = 'deceased' THEN old_since ELSE CAST(NULL AS date) END, "
        f"new_death, unpaid_since, amount, enrolled, roster_vu, money FROM ("
        f"  SELECT x.*, {status} AS new_status FROM ({inner}) x) y "
        f"WHERE y.new_vu <> y.old_vu OR y.new_status <> y.old_status OR {_distinct('y.new_death', 'y.old_death')} "
        f"OR y.money = 1 OR y.action IS NOT NULL "
        # In key order: the primary key then grows at its right edge instead of at random
        # pages (the temporary buffers are 8 MB; a million-row fx_work is ~100 MB), and
        # every later join on pensioner_id reads fx_work in its physical order.
        f"ORDER BY pensioner_id",
        params,
    )
    if changed and _pg():
        # Temporary tables are never auto-analyzed: without statistics the planner takes
        # fx_work for ~1/5 of its size and every filter on it for a default fraction, and
        # picked a merge anti-join over the whole table for the back-pay candidates (a few
        # percent of it). A sample of 30,000 rows costs a fraction of one scan.
        _x("ANALYZE fx_work")
    return changed


def _date_map(name: str, pairs: Iterable[tuple[dt.date, dt.date]]) -> None:
    _temp(name, "d date PRIMARY KEY, v date")
    rows = list(pairs)
    if rows:
        with connection.cursor() as cur:
            cur.executemany(f"INSERT INTO {name} (d, v) VALUES (%s, %s)", rows)  # noqa: S608 - _meta names and fixed SQL, values bound


def _suspension_dates(dates: Iterable[dt.date]) -> None:
    """suspended_since := rules.suspension_date(valid_until), for each distinct date (a handful)."""
    if not dates:
        return
    _date_map("fx_since", ((d, rules.suspension_date(d)) for d in dates))
    _x("UPDATE fx_work SET new_since = (SELECT s.v FROM fx_since s WHERE s.d = fx_work.new_vu) "
       "WHERE new_status = 'suspended' AND new_since IS NULL")


def _months_table(params: dict[str, Any], lows: list[dt.date]) -> int:
    """fx_months: every month start the money steps may look at, with its rule thresholds and regime.

    floor = rules.earliest_unsuspended_valid_until(m): valid_until >= floor is exactly
    rules.paid_on_first(valid_until, m). regime: 'r' before the first closed roster (the
    rule paid), 'c' closed (the ledger says), 'o' open (its roster will decide).
    """
    closed = sorted(as_date(m) for m in RosterMonth.objects.values_list("month", flat=True))
    lows = list(lows)  # the earliest unpaid_since of the living and death date of the newly dead
    if closed:
        lows.append(closed[0])
        params["closed_floor"] = rules.earliest_unsuspended_valid_until(closed[-1])
    else:
        params["closed_floor"] = dt.date(1, 1, 1)
    if not lows:
        return 0
    low = rules.month_start(min(lows))
    high = max([rules.month_start(params["today"]), *closed])
    first = closed[0] if closed else None
    closed_set = set(closed)
    rows = []
    for m in rules.months_between(low, high):
        regime = "r" if first is None or m < first else ("c" if m in closed_set else "o")
        rows.append((m, rules.earliest_unsuspended_valid_until(m), rules.add_months(m, 1), regime))
    _temp("fx_months", "m date PRIMARY KEY, floor date, next_m date, regime char(1)")
    with connection.cursor() as cur:
        cur.executemany("INSERT INTO fx_months (m, floor, next_m, regime) VALUES (%s, %s, %s, %s)", rows)
    return len(rows)


def _void_after_death(params: dict[str, Any]) -> int:
    """Big-data certifications dated after a death just recorded: voided, and valid_until falls back.

    In-person checks dated after the death are not voided here: they are a death
    conflict (issue 10), decided before a death reaches the writer.
    """
    # Driven by the new deaths (few), named as constants so that each reaches its own
    # certifications through cert_history_idx whatever the statistics say. The earlier IN +
    # correlated subquery, and a plain join too, were planned from a certification table
    # analysed while small as a scan of every big-data certification: the step grew with
    # the table, 0.9 → 24.4 s a chunk within one 2M-pensioner night (docs/performance.md,
    # "session 5"; tests/certification/test_void_after_death_plan.py).
    dead = [int(r[0]) for r in _rows(f"SELECT w.pensioner_id FROM fx_work w WHERE {_NEW_DEATHS}")]  # noqa: S608 - fixed SQL
    if not dead:
        return 0
    voided = _x(
        f"UPDATE {_C} SET voided_at = %(now)s, void_reason = '{VOID_AFTER_DEATH}' FROM fx_work w "  # noqa: S608 - _meta names, fixed SQL and integer ids read above; values bound
        f"WHERE {_C}.pensioner_id IN ({', '.join(map(str, dead))}) AND {_C}.pensioner_id = w.pensioner_id "
        f"AND {_NEW_DEATHS} AND {_C}.voided_at IS NULL AND {_C}.method = 'big_data' "
        f"AND {_C}.occurred_on > w.new_death",
        params,
    )
    if not voided:
        return 0
    # The fallback: the roster's date, or D + cycle of the latest certification still standing.
    _temp("fx_fallback", "pensioner_id bigint PRIMARY KEY, last_cert date")
    _x(
        f"INSERT INTO fx_fallback (pensioner_id, last_cert) "  # noqa: S608 - _meta names and fixed SQL, values bound
        f"SELECT w.pensioner_id, (SELECT MAX(c.occurred_on) FROM {_C} c WHERE c.pensioner_id = w.pensioner_id "
        f"AND c.voided_at IS NULL) FROM fx_work w WHERE {_NEW_DEATHS} AND EXISTS (SELECT 1 FROM {_C} c "
        f"WHERE c.pensioner_id = w.pensioner_id AND c.voided_at = %(now)s)",
        params,
    )
    dates = [as_date(r[0]) for r in _rows("SELECT DISTINCT last_cert FROM fx_fallback WHERE last_cert IS NOT NULL")]
    _date_map("fx_extend", ((d, rules.add_months(d, rules.cycle_months())) for d in dates))
    _x(
        "UPDATE fx_work SET new_vu = (SELECT CASE WHEN e.v IS NOT NULL AND e.v > COALESCE(fx_work.roster_vu, e.v) "
        "THEN e.v ELSE COALESCE(fx_work.roster_vu, e.v, fx_work.new_vu) END "
        "FROM fx_fallback f LEFT JOIN fx_extend e ON e.d = f.last_cert WHERE f.pensioner_id = fx_work.pensioner_id) "
        "WHERE pensioner_id IN (SELECT pensioner_id FROM fx_fallback)"
    )
    return voided


def _deaths(params: dict[str, Any], deaths: int) -> tuple[int, int]:
    """Overpayment for the months paid strictly after the death month (rules.overpaid_months_in_ledger)."""
    if not deaths:
        return 0, 0
    _temp("fx_op", "pensioner_id bigint, month date, amount numeric(12, 2)")
    # Before the ledger: the months the rule paid, up to the run's month, except the
    # suspension's and those a back-pay line was written for (the rule did not pay them).
    _x(
        f"INSERT INTO fx_op (pensioner_id, month, amount) SELECT w.pensioner_id, m.m, w.amount "  # noqa: S608 - _meta names and fixed SQL, values bound
        f"FROM fx_work w JOIN fx_months m ON m.m > w.new_death AND m.m <= %(run_month)s AND m.regime = 'r' "
        f"AND (w.unpaid_since IS NULL OR m.m < w.unpaid_since) "
        f"WHERE {_NEW_DEATHS} AND NOT EXISTS (SELECT 1 FROM {_BPL} b WHERE b.pensioner_id = w.pensioner_id "
        f"AND b.month = m.m)",
        params,
    )
    # In the ledger: every month paid (regular or back-pay) after the death month.
    _x(
        f"INSERT INTO fx_op (pensioner_id, month, amount) SELECT w.pensioner_id, l.month, l.amount "  # noqa: S608 - _meta names and fixed SQL, values bound
        f"FROM fx_work w JOIN {_L} l ON l.pensioner_id = w.pensioner_id AND l.kind IN ('pay', 'back_pay') "
        f"AND l.month > w.new_death WHERE {_NEW_DEATHS}",
        params,
    )
    if _pg():
        months = "jsonb_agg(to_char(o.month, 'YYYY-MM-DD') ORDER BY o.month)"
        src = "fx_op o"
    else:
        months = "json_group_array(o.month)"
        src = "(SELECT * FROM fx_op ORDER BY pensioner_id, month) o"
    opened = _x(
        f"INSERT INTO {_O} (pensioner_id, death_date, months, total, state, opened_on, created_at) "  # noqa: S608 - _meta names and fixed SQL, values bound
        f"SELECT o.pensioner_id, w.new_death, {months}, SUM(o.amount), 'open', %(today)s, %(now)s "
        f"FROM {src} JOIN fx_work w ON w.pensioner_id = o.pensioner_id GROUP BY o.pensioner_id, w.new_death "
        f"ON CONFLICT DO NOTHING",
        params,
    )
    return deaths, opened


def _back_pay(params: dict[str, Any]) -> tuple[int, int]:
    """Itemised back-pay for every month the new valid_until covers and nobody paid (rules.back_pay_months).

    Only people who can have an unpaid month are looked at: the suspended, revived
    deaths, rows naming unpaid_since, and anyone whose old date did not cover the last
    closed roster; everyone else was paid every month (the ledger or the rule says so).
    """
    candidate = ("w.new_status <> 'deceased' AND (w.money = 1 OR w.unpaid_since IS NOT NULL "
                 "OR w.old_vu < %(closed_floor)s)")
    lines = _x(
        f"INSERT INTO fx_bp (pensioner_id, month, amount) SELECT w.pensioner_id, m.m, w.amount "  # noqa: S608 - _meta names and fixed SQL, values bound
        f"FROM fx_work w JOIN fx_months m ON w.new_vu >= m.floor "
        f"WHERE {candidate} AND ("
        f"  (m.regime = 'r' AND w.unpaid_since IS NOT NULL AND m.m >= w.unpaid_since AND m.m <= %(today)s) "
        # A closed roster lists only the enrolled: a month closed before enrolment is not the portal's to pay.
        f"  OR (m.regime = 'c' AND m.next_m > w.enrolled AND NOT EXISTS (SELECT 1 FROM {_L} l WHERE l.pensioner_id = w.pensioner_id "
        f"      AND l.month = m.m AND l.kind IN ('pay', 'back_pay')))) "
        f"AND NOT EXISTS (SELECT 1 FROM {_BPL} b WHERE b.pensioner_id = w.pensioner_id AND b.month = m.m)",
        params,
    )
    if not lines:
        return 0, 0
    params["bp_floor"] = _count(f"SELECT COALESCE(MAX(id), 0) FROM {_BP}")  # noqa: S608 - _meta names and fixed SQL, values bound
    statements = _x(
        f"INSERT INTO {_BP} (pensioner_id, suspended_since, restored_on, total, reason, created_at) "  # noqa: S608 - _meta names and fixed SQL, values bound
        f"SELECT b.pensioner_id, COALESCE(w.unpaid_since, MIN(b.month)), %(today)s, SUM(b.amount), w.reason, %(now)s "
        f"FROM fx_bp b JOIN fx_work w ON w.pensioner_id = b.pensioner_id "
        f"GROUP BY b.pensioner_id, w.unpaid_since, w.reason ORDER BY b.pensioner_id",
        params,
    )
    _x(
        f"INSERT INTO {_BPL} (back_pay_id, pensioner_id, month, amount) "  # noqa: S608 - _meta names and fixed SQL, values bound
        f"SELECT s.id, b.pensioner_id, b.month, b.amount FROM fx_bp b JOIN {_BP} s ON s.pensioner_id = b.pensioner_id "
        f"AND s.id > %(bp_floor)s AND s.restored_on = %(today)s",
        params,
    )
    return statements, lines


def _revived_overpayments() -> tuple[int, int]:
    """A revoked death (issue 10): nothing was owed. Its open overpayment case is cancelled;
    a case already recovered is cancelled too, and the amount recovered becomes a refund
    (`Overpayment.refund`) that the next roster to close pays once (certification.ledger)."""
    revived = "SELECT pensioner_id FROM fx_work WHERE old_status = 'deceased' AND new_death IS NULL"
    refunds = _x(
        f"UPDATE {_O} SET state = 'cancelled', refund = total WHERE state = 'recovered' "  # noqa: S608 - _meta names and fixed SQL, values bound
        f"AND refunded_in IS NULL AND pensioner_id IN ({revived})"
    )
    cancelled = _x(f"UPDATE {_O} SET state = 'cancelled' WHERE state = 'open' AND pensioner_id IN ({revived})")  # noqa: S608 - _meta names and fixed SQL, values bound
    return cancelled, refunds


def _status_changes(params: Mapping[str, Any]) -> None:
    _x(
        f"INSERT INTO {_SC} (pensioner_id, old_status, new_status, effective_on, reason, valid_until, created_at) "  # noqa: S608 - _meta names and fixed SQL, values bound
        f"SELECT pensioner_id, old_status, new_status, %(today)s, reason, new_vu, %(now)s FROM fx_work "
        f"WHERE new_status <> old_status ORDER BY pensioner_id",
        params,
    )


def _audit(params: Mapping[str, Any]) -> None:
    """One row per person acted on by someone, or whose money or death changed."""
    detail = _json_object([
        ("reason", "w.reason"), ("old_status", "w.old_status"), ("new_status", "w.new_status"),
        ("valid_until", "CAST(w.new_vu AS text)"), ("death_date", "CAST(w.new_death AS text)"),
        ("context", "CAST(w.detail AS jsonb)" if _pg() else "json(w.detail)"),
    ])
    money = ("(w.new_death IS NOT NULL AND w.old_status <> 'deceased') OR w.money = 1 "
             "OR w.pensioner_id IN (SELECT b.pensioner_id FROM fx_bp b)")
    _x(
        f"INSERT INTO {_A} (actor_id, action, pensioner_id, detail, at) "  # noqa: S608 - _meta names and fixed SQL, values bound
        f"SELECT w.actor_id, COALESCE(w.action, 'pensioner_effect'), w.pensioner_id, {detail}, %(now)s "
        f"FROM fx_work w WHERE w.actor_id IS NOT NULL OR w.action IS NOT NULL OR {money}",
        params,
    )


def _audit_batch(counts: EffectCounts) -> None:
    if counts.changed > 1:
        AuditLog.objects.create(action="effects_apply", detail={
            "changed": counts.changed, "extended": counts.extended, "deceased": counts.deceased,
            "back_pay_lines": counts.back_pay_lines, "overpayments": counts.overpayments, "voided": counts.voided,
            "status_changes": {f"{o}>{n}": c for (o, n), c in counts.status_changes.items()},
        })



@transaction.atomic
def revived_certifications_restore(*, pensioner_id: int) -> int:
    """A revoked death (issue 10): the big-data certifications voided because of it stand again.

    The caller then hands the writer a `revive` row with the validity they give.
    """
    return Certification.objects.filter(
        pensioner_id=pensioner_id, voided_at__isnull=False, void_reason=VOID_AFTER_DEATH,
    ).update(voided_at=None, void_reason="")
