"""The nightly matching (DESIGN §1, §2, §4): evidence → validity, deaths, fraud, transitions.

Set-based throughout: each step is one SQL statement over the night's evidence,
never a Python loop over pensioners or evidence. Where a rule needs calendar
arithmetic (D + 12 months, overpaid months), Python maps each *distinct* date
through certification.rules into a small lookup table that SQL joins, so the
rules have one home.

Every effect on a pensioner goes through the one writer, certification.effects
(status changes, back-pay against the payment ledger, overpayments, voiding, audit).
Per pensioner, in this order (tests/bigdata/test_matching_agrees_with_rules.py
replays the same order with the pure functions):
1. Death evidence on a living person: deceased from the earliest death date, through
   the writer (overpayment for the months paid after the death month, by the ledger;
   big-data certifications dated after the death voided, validity falling back).
2. Fraud alerts: qualifying evidence dated after a recorded death, and the
   certifications step 1 (or a staff death confirmation) voided.
3. The living: valid_until := rules.extend(valid_until, latest qualifying date)
   through the writer (never shorter; restoring, back-pay, status changes in the same
   statements); one big_data certification naming the record that extended it.
4. certification.services.transitions_run for everyone in range (the writer again).

Work tracking: a run owns the evidence id window (lo, hi]; the next run starts
where the last finished one ended. A run is cut into one chunk per partition of
the evidence table (bigdata.partitions: a bucket range of the ID number's sequence
digits, certification.idnumber.bucket_of); every statement of a chunk filters
evidence on `bucket` (so PostgreSQL prunes the other partitions,
tests/bigdata/test_partition_pruning.py) and pensioners on the same expression
(their index `pensioner_bucket_idx`). SQLite has no partitions and chunks the same way. Every step is idempotent (extension only
lengthens, inserts skip conflicts, deaths skip the deceased), so a killed run
restarted, or a chunk redelivered to another worker, ends in the same state.
"""

# SQL below is built from table names in Model._meta and fixed fragments; every value is a bound
# parameter. Each statement carries its own S608 exception, saying so.

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from certification import rules
from certification.effects import VOID_AFTER_DEATH, Source, effects_apply, effects_cleanup
from certification.effects import as_date as _as_date
from certification.idnumber import bucket_sql
from certification.models import Certification, Pensioner
from certification.services import transitions_run

from . import partitions
from .locks import chunk_lock, evidence_write_barrier, run_lock
from .models import (
    DeathAction,
    DeathRecord,
    Evidence,
    EvidenceSource,
    FraudAlert,
    MatchingChunk,
    MatchingRun,
)

logger = logging.getLogger(__name__)

_E = Evidence._meta.db_table
_S = EvidenceSource._meta.db_table
_P = Pensioner._meta.db_table
_C = Certification._meta.db_table
_F = FraudAlert._meta.db_table
_DR = DeathRecord._meta.db_table

# Seconds to pause at the end of each chunk, before it commits. A test hook (a test
# kills a run inside an open chunk transaction); zero in production.
DEFAULT_CHUNK_PAUSE = 0.0

_DAY0 = dt.date(1950, 1, 1)  # feeds reject earlier dates (bigdata.parsing.EARLIEST)
_ID_BITS = 40  # evidence ids below 2**40 (a trillion rows)
_ID_MASK = (1 << _ID_BITS) - 1
# A source's preference among records of the same day, packed between the date and the id:
# the most trusted source names the extension (or the death), whatever order the feeds
# were imported in (issue 14: two workers import feeds side by side).
_SRC_BITS = 7
_MAX_SOURCES = (1 << _SRC_BITS) - 1

COUNT_KEYS = ("extended", "entered_warning", "suspended", "restored", "deceased", "fraud_alerts")


def set_local_work_mem() -> None:
    """Room for the night's hash aggregates (default 4MB spills a million groups to disk)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('work_mem', %s, true)", [os.environ.get("BIGDATA_WORK_MEM") or "256MB"])


def chunk_pause() -> float:
    return float(os.environ.get("BIGDATA_CHUNK_PAUSE_SECONDS") or DEFAULT_CHUNK_PAUSE)


@dataclass
class Counts:
    extended: int = 0
    entered_warning: int = 0
    suspended: int = 0
    restored: int = 0
    deceased: int = 0
    fraud_alerts: int = 0

    def add(self, other: dict[str, int]) -> None:
        for k in COUNT_KEYS:
            setattr(self, k, getattr(self, k) + int(other.get(k, 0)))


# ---- Runs and chunks ---------------------------------------------------------

def run_open(*, today: dt.date) -> MatchingRun:
    """Resume today's unfinished run, or start one whose window begins where the last finished run ended."""
    with transaction.atomic():
        with connection.cursor() as cur:
            evidence_write_barrier(cur)
        current = MatchingRun.objects.select_for_update().filter(status=MatchingRun.Status.RUNNING).order_by("-id")
        open_run = current.first()
        if open_run is not None and open_run.run_on == today:
            return open_run
        # An unfinished run of an earlier day is superseded: its window is re-covered
        # below (lo comes from the last *finished* run), and re-applying is harmless.
        current.update(status=MatchingRun.Status.SUPERSEDED, finished_at=timezone.now())
        last_done = MatchingRun.objects.filter(status=MatchingRun.Status.DONE).order_by("-id").first()
        hi = Evidence.objects.aggregate(m=Max("id"))["m"] or 0
        return MatchingRun.objects.create(
            run_on=today,
            evidence_lo=last_done.evidence_hi if last_done else 0,
            evidence_hi=hi,
            link_floor=last_done.pk if last_done else 0,
        )


def chunks_plan(run: MatchingRun, *, size: int | None = None) -> list[MatchingChunk]:
    """One chunk per evidence partition: bucket ranges [pk_lo, pk_hi); idempotent for a resumed run.

    `size` is accepted and ignored: chunks used to be pensioner-id ranges of a given
    size, and callers (tasks, drills) still pass one. The first and last ranges are
    open, so every pensioner (a malformed ID number too) is in exactly one chunk.
    """
    del size
    existing = list(run.chunks.all())
    if existing:
        return existing
    MatchingChunk.objects.bulk_create(
        [MatchingChunk(run=run, pk_lo=lo, pk_hi=hi) for lo, hi in partitions.ranges()], ignore_conflicts=True
    )
    return list(run.chunks.all())


def _run_finish_if_complete(run: MatchingRun) -> None:
    if run.chunks.filter(done_at__isnull=True).exists():
        return
    totals = Counts()
    for c in run.chunks.all():
        totals.add(c.counts)
    MatchingRun.objects.filter(pk=run.pk, status=MatchingRun.Status.RUNNING).update(
        status=MatchingRun.Status.DONE, counts=asdict(totals), finished_at=timezone.now()
    )


def _run_totals(run: MatchingRun) -> Counts:
    totals = Counts()
    for c in run.chunks.all():
        totals.add(c.counts)
    return totals


def matching_run(*, today: dt.date, bucket_range: tuple[int, int] | None = None,
                 run_id: int | None = None) -> dict[str, Any]:
    """One night's matching, whole (bucket_range=None: every chunk in turn) or one chunk of it.

    A whole run takes the exclusive run lock (a second one raises AlreadyRunning);
    a chunk takes it shared, so the chunks of one run proceed on several workers.
    Returns the DESIGN §4 counts; a resumed run reports the whole run's totals.
    """
    started = time.perf_counter()
    if bucket_range is None:
        with run_lock():
            run = run_open(today=today)
            for chunk in chunks_plan(run):
                if chunk.done_at is None:
                    chunk_process(run=run, chunk=chunk, today=today)
            _run_finish_if_complete(run)
            totals = _run_totals(run)
    else:
        with run_lock(shared=True):
            run = MatchingRun.objects.get(pk=run_id) if run_id else run_open(today=today)
            chunk, _ = MatchingChunk.objects.get_or_create(run=run, pk_lo=bucket_range[0],
                                                           defaults={"pk_hi": bucket_range[1]})
            counts = chunk_process(run=run, chunk=chunk, today=today)
            _run_finish_if_complete(run)
            totals = Counts()
            totals.add(counts)
    return {**asdict(totals), "seconds": round(time.perf_counter() - started, 3)}


def partitions_analyze_if_stale(lo: int, hi: int) -> list[str]:
    """ANALYZE this chunk's evidence partitions when a tenth of their rows changed since the last one.

    Every chunk statement is planned from the partition's statistics, and the night's
    import has just grown it; autovacuum analyzes it later, if at all before matching. A
    partition analyzed while empty (a fresh or restored database, the benchmark's build)
    and then filled planned a fraud-step join as a nested loop over 124k rows × every
    deceased pensioner: 24.5 s instead of well under one (docs/performance.md, "the
    matching's planner trap"). Returns the partitions analyzed (PostgreSQL only).
    """
    if connection.vendor != "postgresql":
        return []
    names = [partitions.partition_name(i) for i, (a, b) in enumerate(partitions.ranges()) if a < hi and lo < b]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) "
            "AND (COALESCE(last_analyze, last_autoanalyze) IS NULL "
            "OR n_mod_since_analyze > GREATEST(n_live_tup, 1000) / 10)", [names])
        stale = [r[0] for r in cur.fetchall()]
        for name in stale:
            cur.execute(f"ANALYZE {name}")  # a name from bigdata.partitions, never input
    return stale


def chunk_process(*, run: MatchingRun, chunk: MatchingChunk, today: dt.date) -> dict[str, int]:
    """Process one chunk (bucket range) of a run in one transaction; a done chunk is skipped."""
    started = time.perf_counter()
    with chunk_lock(run.pk, chunk.pk_lo):
        with transaction.atomic():
            fresh = MatchingChunk.objects.select_for_update().get(pk=chunk.pk)
            if fresh.done_at is not None:
                return dict(fresh.counts)
            set_local_work_mem()
            partitions_analyze_if_stale(chunk.pk_lo, chunk.pk_hi)
            analyzed = time.perf_counter()
            counts = _Chunk(run=run, lo=chunk.pk_lo, hi=chunk.pk_hi, today=today).process()
            MatchingChunk.objects.filter(pk=chunk.pk).update(counts=counts, done_at=timezone.now())
            if pause := chunk_pause():
                # Inside the transaction on purpose: a kill here must roll the chunk back.
                time.sleep(pause)
            worked = time.perf_counter()
        # Committed: the commit runs the deferred foreign-key checks of every row written.
        done = time.perf_counter()
        logger.info("matching chunk [%s, %s) %.2f s: analyze %.2f s, statements %.2f s, commit %.2f s",
                    chunk.pk_lo, chunk.pk_hi, done - started, analyzed - started, worked - analyzed, done - worked)
        chunk.done_at = timezone.now()
        chunk.counts = counts
        return counts


# ---- One chunk: the set-based SQL ---------------------------------------------

class _Chunk:
    """The statements for one bucket range [lo, hi) (one partition) of a run's evidence window."""

    def __init__(self, *, run: MatchingRun, lo: int, hi: int, today: dt.date) -> None:
        self.run = run
        self.today = today
        self.now = timezone.now()
        self.pg = connection.vendor == "postgresql"
        self.params: dict[str, Any] = {
            "lo": run.evidence_lo, "hi": run.evidence_hi, "floor": run.link_floor, "run": run.pk,
            "a": lo, "b": hi, "today": today, "now": self.now,
        }
        enabled = EvidenceSource.objects.filter(enabled=True)
        self.qualifying = [s.pk for s in enabled if s.kind == EvidenceSource.Kind.QUALIFYING] or [-1]
        # Trust levels (issue 10): only `immediate` death sources act at once; `verify` ones
        # (hukou_cancel by default) open a death_verify case and the person stays paid.
        self.death = [s.pk for s in enabled if s.kind == EvidenceSource.Kind.DEATH
                      and s.death_action == DeathAction.IMMEDIATE] or [-1]
        self.death_verify = [s.pk for s in enabled if s.kind == EvidenceSource.Kind.DEATH
                             and s.death_action == DeathAction.VERIFY] or [-1]
        self.counter_visit = [s.pk for s in enabled if s.code == "counter_visit"] or [-1]
        # Ties on the date go to the higher trust level, then the source code; never to the
        # evidence id alone, which only says which feed was imported first.
        ordered = sorted(enabled, key=lambda s: (-s.trust_level, s.code))
        if len(ordered) > _MAX_SOURCES:
            raise ValueError(f"more than {_MAX_SOURCES} enabled evidence sources: the matching key cannot rank them")
        self.preference = {s.pk: len(ordered) - i for i, s in enumerate(ordered)}
        self.temps: list[str] = []
        # The pensioner side of the chunk, spelled as the expression index pensioner_bucket_idx.
        self.p_bucket = bucket_sql("p.id_number", connection.vendor)

    # -- helpers
    def _x(self, sql: str, extra: dict[str, Any] | None = None) -> int:
        with connection.cursor() as cur:
            cur.execute(sql, {**self.params, **(extra or {})})
            return cur.rowcount

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        with connection.cursor() as cur:
            cur.execute(sql, self.params)
            return cur.fetchall()

    def _temp(self, name: str, columns: str) -> None:
        # Dropped before and after: the caller's transaction may outlive this chunk.
        self._drop(name)
        self._x(f"CREATE TEMP TABLE {name} ({columns})")
        self.temps.append(name)

    def _drop(self, name: str) -> None:
        self._x(f"DROP TABLE IF EXISTS {'pg_temp' if self.pg else 'temp'}.{name}")

    def _window(self, sources: list[int]) -> str:
        # The run's evidence: its id window, plus rows linked late by this or a
        # superseded run; matched rows of this chunk's partition only; nothing dated after today.
        ids = ",".join(str(int(s)) for s in sources)
        return (
            f"((e.id > %(lo)s AND e.id <= %(hi)s) OR e.linked_by_run > %(floor)s) "
            f"AND {self._part('e')} AND e.pensioner_id IS NOT NULL "
            f"AND e.event_date <= %(today)s AND e.source_id IN ({ids})"
        )

    @staticmethod
    def _part(alias: str) -> str:
        """This chunk's partition of evidence: on every statement that reads it, so the planner prunes."""
        return f"{alias}.bucket >= %(a)s AND {alias}.bucket < %(b)s"

    def _pensioners(self) -> str:
        """This chunk's pensioners, by the same bucket rule (the expression index)."""
        return f"{self.p_bucket} >= %(a)s AND {self.p_bucket} < %(b)s"

    def _key(self, *, prefer_high: bool) -> str:
        # (date, source preference, id) packed into one bigint so max()/min() picks a record in
        # one hash aggregate, with no sort and no join back: days since 1950 << 47 | rank << 40 | id.
        # max() takes the latest date and, on a tie, the most trusted source; min() the earliest
        # date and, on a tie, again the most trusted source (its rank is inverted).
        days = ("(e.event_date - DATE '1950-01-01')" if self.pg
                else "CAST(julianday(e.event_date) - julianday('1950-01-01') AS INTEGER)")
        ranks = " ".join(f"WHEN {int(pk)} THEN {rank if prefer_high else _MAX_SOURCES - rank}"
                         for pk, rank in self.preference.items())
        rank = f"(CASE e.source_id {ranks} ELSE 0 END)" if ranks else "0"
        return (f"(CAST({days} AS BIGINT) * {1 << (_ID_BITS + _SRC_BITS)} "
                f"+ CAST({rank} AS BIGINT) * {1 << _ID_BITS} + e.id)")

    def _unpack_date(self, col: str) -> str:
        shift = _ID_BITS + _SRC_BITS
        if self.pg:
            return f"(DATE '1950-01-01' + CAST(({col}) >> {shift} AS INTEGER))"
        return f"date('1950-01-01', '+' || (({col}) >> {shift}) || ' days')"

    def _json(self, col: str) -> str:
        return f"CAST({col} AS jsonb)" if self.pg else col

    # -- the steps
    def process(self) -> dict[str, int]:
        steps: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            steps[name] = round(now - clock, 3)
            clock = now

        try:
            self._link_late_rows()
            lap("link")
            deceased = self._deaths()
            self._death_verify_cases()
            lap("deaths")
            fraud = self._fraud()
            lap("fraud")
            extended, restored, warned, suspended = self._extend_and_restore(lap)
            t = transitions_run(today=self.today, bucket_range=(self.params["a"], self.params["b"]))
            lap("transitions")
        finally:
            for name in self.temps:
                self._drop(name)
            effects_cleanup()
        logger.info("matching chunk [%s, %s) steps %s", self.params["a"], self.params["b"], steps)
        return {
            "extended": extended, "entered_warning": warned + t.entered_warning, "suspended": suspended + t.suspended,
            "restored": restored + t.restored, "deceased": deceased, "fraud_alerts": fraud,
        }

    def _link_late_rows(self) -> None:
        """Evidence that arrived before its pensioner was imported: link it now."""
        self._x(
            f"UPDATE {_E} SET pensioner_id = p.id, linked_by_run = %(run)s FROM {_P} p "  # noqa: S608 - _meta names and fixed SQL, values bound
            f"WHERE {_E}.pensioner_id IS NULL AND {_E}.id <= %(hi)s AND p.id_number = {_E}.id_number "
            f"AND {self._part(_E)} AND {self._pensioners()}"
        )

    def _deaths(self) -> int:
        """The earliest death record of each living person in the window, through the one writer
        (deceased, overpayment against the ledger, big-data certifications after the death voided)."""
        self._temp("bd_death", "pensioner_id bigint PRIMARY KEY, death_date date, evidence_id bigint")
        n = self._x(
            f"INSERT INTO bd_death (pensioner_id, death_date, evidence_id) "  # noqa: S608 - _meta names and fixed SQL, values bound
            f"SELECT pensioner_id, {self._unpack_date('k')}, k & {_ID_MASK} FROM ("
            f"  SELECT e.pensioner_id, min({self._key(prefer_high=False)}) AS k FROM {_E} e JOIN {_P} p ON p.id = e.pensioner_id "
            f"  WHERE {self._window(self.death)} AND {self._pensioners()} AND p.status <> 'deceased' "
            # A record staff already decided (rejected, in conflict, revoked) is never applied again.
            f"  AND NOT EXISTS (SELECT 1 FROM {_DR} r WHERE r.pensioner_id = e.pensioner_id "
            f"  AND r.source_ref = e.source_ref AND r.state IN ('rejected', 'conflict', 'revoked') "
            f"  AND r.source = (SELECT s.code FROM {_S} s WHERE s.id = e.source_id)) "
            f"  GROUP BY e.pensioner_id) x"
        )
        if not n:
            return 0
        if not self._death_conflicts():
            return 0
        counts = effects_apply(today=self.today, now=self.now, source=Source(
            columns={"pensioner_id": "d.pensioner_id", "death_date": "d.death_date", "reason": "'death:' || s.code",
                     "ref": "d.evidence_id"},
            from_sql=f"bd_death d JOIN {_E} e ON e.id = d.evidence_id AND {self._part('e')} "
                     f"JOIN {_S} s ON s.id = e.source_id",
            params={"a": self.params["a"], "b": self.params["b"]},
        ))
        # The lifecycle row of each death that acted (a revocation later marks it revoked), and
        # any verify case still open for these people is settled by the trusted record.
        self._x(
            f"INSERT INTO {_DR} (pensioner_id, source, source_ref, death_date, kind, state, opened_on, "  # noqa: S608 - _meta names and fixed SQL, values bound
            f"decision_note, created_at) "
            f"SELECT d.pensioner_id, s.code, e.source_ref, d.death_date, 'immediate', 'confirmed', %(today)s, '', "
            f"%(now)s FROM bd_death d JOIN {_E} e ON e.id = d.evidence_id AND {self._part('e')} "
            f"JOIN {_S} s ON s.id = e.source_id "
            f"JOIN {_P} p ON p.id = d.pensioner_id WHERE p.status = 'deceased' ON CONFLICT DO NOTHING"
        )
        self._x(
            f"UPDATE {_DR} SET state = 'confirmed', decided_at = %(now)s, "  # noqa: S608 - _meta names and fixed SQL, values bound
            f"decision_note = '已由民政死亡或火化记录确认' WHERE state = 'verify' "
            f"AND pensioner_id IN (SELECT d.pensioner_id FROM bd_death d JOIN {_P} p ON p.id = d.pensioner_id "
            f"WHERE p.status = 'deceased')"
        )
        return counts.deceased

    def _death_conflicts(self) -> int:
        """A death record for someone certified in person after its date opens a death_conflict
        case instead of acting (DESIGN §1): face, counter, video, home visit, or a counter_visit
        record (a certification, or one in tonight's window). Returns how many deaths remain."""
        self._temp("bd_seen", "pensioner_id bigint PRIMARY KEY, seen date")
        in_person = "'face_self', 'face_proxy', 'counter', 'video', 'home_visit'"
        self._x(
            f"INSERT INTO bd_seen (pensioner_id, seen) SELECT pensioner_id, MAX(seen) FROM ("  # noqa: S608 - _meta names and fixed SQL, values bound
            f"  SELECT c.pensioner_id, c.occurred_on AS seen FROM {_C} c JOIN bd_death d "
            f"  ON d.pensioner_id = c.pensioner_id WHERE c.voided_at IS NULL AND c.occurred_on > d.death_date "
            f"  AND (c.method IN ({in_person}) OR (c.method = 'big_data' AND c.source = 'counter_visit')) "
            f"  UNION ALL SELECT e.pensioner_id, e.event_date FROM {_E} e JOIN bd_death d "
            f"  ON d.pensioner_id = e.pensioner_id WHERE {self._window(self.counter_visit)} "
            f"  AND e.event_date > d.death_date) x GROUP BY pensioner_id"
        )
        self._x(
            f"INSERT INTO {_DR} (pensioner_id, source, source_ref, death_date, kind, state, seen_alive_on, "  # noqa: S608 - _meta names and fixed SQL, values bound
            f"opened_on, decision_note, created_at) "
            f"SELECT d.pensioner_id, s.code, e.source_ref, d.death_date, 'conflict', 'conflict', b.seen, "
            f"%(today)s, '', %(now)s FROM bd_death d JOIN bd_seen b ON b.pensioner_id = d.pensioner_id "
            f"JOIN {_E} e ON e.id = d.evidence_id AND {self._part('e')} JOIN {_S} s ON s.id = e.source_id "
            f"ON CONFLICT DO NOTHING"
        )
        self._x("DELETE FROM bd_death WHERE pensioner_id IN (SELECT pensioner_id FROM bd_seen)")
        return int(self._rows("SELECT COUNT(*) FROM bd_death")[0][0])

    def _death_verify_cases(self) -> int:
        """Death records from a `verify` source open a death_verify case; nothing else changes."""
        return self._x(
            f"INSERT INTO {_DR} (pensioner_id, source, source_ref, death_date, kind, state, opened_on, "  # noqa: S608 - _meta names and fixed SQL, values bound
            f"decision_note, created_at) "
            f"SELECT e.pensioner_id, s.code, e.source_ref, e.event_date, 'verify', 'verify', %(today)s, '', %(now)s "
            f"FROM {_E} e JOIN {_S} s ON s.id = e.source_id JOIN {_P} p ON p.id = e.pensioner_id "
            f"WHERE {self._window(self.death_verify)} AND {self._pensioners()} AND p.status <> 'deceased' "
            f"ON CONFLICT DO NOTHING"
        )

    def _fraud(self) -> int:
        """Fraud alerts, whichever arrived first (DESIGN §1).

        The window's qualifying records dated after a recorded death; and the big-data
        certifications the writer voided because a death arrived after them (the
        partial index on voided_at keeps that scan to the voided rows).
        """
        window = self._x(
            f"INSERT INTO {_F} (pensioner_id, source, source_ref, event_date, death_date, state, created_at) "  # noqa: S608 - _meta names and fixed SQL, values bound
            f"SELECT e.pensioner_id, s.code, e.source_ref, e.event_date, p.death_date, 'open', %(now)s "
            f"FROM {_E} e JOIN {_S} s ON s.id = e.source_id JOIN {_P} p ON p.id = e.pensioner_id "
            f"WHERE {self._window(self.qualifying)} AND {self._pensioners()} AND p.status = 'deceased' "
            f"AND p.death_date IS NOT NULL "
            f"AND e.event_date > p.death_date ON CONFLICT DO NOTHING"
        )
        voided = self._x(
            f"INSERT INTO {_F} (pensioner_id, source, source_ref, event_date, death_date, state, created_at) "  # noqa: S608 - _meta names and fixed SQL, values bound
            f"SELECT c.pensioner_id, c.source, c.evidence_ref, c.occurred_on, p.death_date, 'open', %(now)s "
            f"FROM {_C} c JOIN {_P} p ON p.id = c.pensioner_id "
            f"WHERE c.voided_at IS NOT NULL AND c.void_reason = '{VOID_AFTER_DEATH}' AND c.method = 'big_data' "
            f"AND {self._pensioners()} AND p.death_date IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {_F} f WHERE f.source = c.source AND f.source_ref = c.evidence_ref) "
            f"ON CONFLICT DO NOTHING"
        )
        return window + voided

    def _extend_and_restore(self, lap: Any = lambda name: None) -> tuple[int, int, int, int]:
        """Each living person's latest qualifying record: valid_until := D + cycle through the one writer
        (which restores, back-pays against the ledger and writes the status changes), then one
        big_data certification per extended person naming the record that extended them."""
        self._temp("bd_best", "pensioner_id bigint PRIMARY KEY, event_date date, evidence_id bigint")
        self._x(
            f"INSERT INTO bd_best (pensioner_id, event_date, evidence_id) "  # noqa: S608 - _meta names and fixed SQL, values bound
            f"SELECT pensioner_id, {self._unpack_date('k')}, k & {_ID_MASK} FROM ("
            f"  SELECT e.pensioner_id, max({self._key(prefer_high=True)}) AS k FROM {_E} e "
            f"  WHERE {self._window(self.qualifying)} GROUP BY e.pensioner_id) x"
        )
        if self.pg:
            self._x("ANALYZE bd_best")
        # D + cycle for each distinct evidence date, by rules.add_months (never in SQL).
        dates = [_as_date(r[0]) for r in self._rows("SELECT DISTINCT event_date FROM bd_best")]
        if not dates:
            return 0, 0, 0, 0
        self._temp("bd_map", "event_date date PRIMARY KEY, new_valid date")
        with connection.cursor() as cur:
            cur.executemany("INSERT INTO bd_map VALUES (%s, %s)",
                            [(d, rules.add_months(d, rules.cycle_months())) for d in dates])
        # The writer drops rows that change nothing (the date is not later) and ignores the
        # deceased (their evidence is the fraud step's).
        counts = effects_apply(today=self.today, now=self.now, source=Source(
            columns={"pensioner_id": "b.pensioner_id", "valid_until": "m.new_valid", "reason": "'certified:big_data'",
                     "ref": "b.evidence_id"},
            from_sql="bd_best b JOIN bd_map m ON m.event_date = b.event_date",
        ))
        lap("extend")
        restored = counts.moved(["warning", "suspended"], ["active"]) + counts.moved(["suspended"], ["warning"])
        warned, suspended = counts.moved(["active"], ["warning"]), counts.moved(["active", "warning"], ["suspended"])
        if not counts.extended:
            return 0, restored, warned, suspended
        self._x(
            f"INSERT INTO {_C} (pensioner_id, method, occurred_on, recorded_at, source, evidence_ref, note, "  # noqa: S608 - _meta names and fixed SQL, values bound
            f"helper_relationship) "
            f"SELECT x.pensioner_id, 'big_data', e.event_date, %(now)s, s.code, e.source_ref, '', '' "
            f"FROM fx_work x JOIN {_E} e ON e.id = x.ref AND {self._part('e')} JOIN {_S} s ON s.id = e.source_id "
            f"WHERE x.new_vu > x.old_vu AND x.new_status <> 'deceased' "
            # An anti-join, not ON CONFLICT: per-row speculative insertion doubled this
            # statement. Nothing else writes big_data certifications, and the run lock
            # keeps two runs apart, so the check cannot race.
            f"AND NOT EXISTS (SELECT 1 FROM {_C} c WHERE c.pensioner_id = x.pensioner_id "
            f"AND c.method = 'big_data' AND c.source = s.code AND c.evidence_ref = e.source_ref) "
            # In pensioner order: both indexes on the table lead with pensioner_id, and
            # inserting in key order keeps them from random page writes once they
            # outgrow the cache (docs/performance.md).
            f"ORDER BY x.pensioner_id"
        )
        lap("certifications")
        return counts.extended, restored, warned, suspended
