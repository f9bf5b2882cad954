"""Writes for evidence feeds: importing a file (command, admin upload, partner API) and partner tokens."""

# SQL below is built from table names in Model._meta and fixed fragments; every value is a bound parameter.


from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from certification import rules
from certification.idnumber import bucket_sql
from certification.models import Pensioner, User
from certification.private_files import open_private, private_dir
from certification.services import audit_log
from certification.spreadsheets import csv_writer

from . import parsing, pgimport
from .locks import evidence_write_lock_shared
from .matching import set_local_work_mem
from .models import Evidence, EvidenceBatch, EvidenceSource, FraudAlert, PartnerToken

logger = logging.getLogger(__name__)

_E = Evidence._meta.db_table
_P = Pensioner._meta.db_table
# Rows per executemany on the portable (SQLite) path; 5,000 keeps memory flat.
_PORTABLE_BATCH = 5000
# Advisory-lock class (first key) for "one import per source at a time"; the second key is the source id.
_IMPORT_LOCK_CLASS = 0x4244494D
# Bytes per COPY message; larger gains nothing measurable, smaller costs round trips.
_COPY_CHUNK = 256 * 1024


class SourceUnavailable(ValueError):
    """Unknown or disabled source code."""


@dataclass(frozen=True)
class ImportResult:
    batch: int
    rows: int
    accepted: int
    duplicates: int
    rejected: int
    unmatched: int
    errors_file: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch, "rows": self.rows, "accepted": self.accepted, "duplicates": self.duplicates,
            "rejected": self.rejected, "unmatched": self.unmatched, "errors_file": self.errors_file,
        }


def source_get(code: str) -> EvidenceSource:
    try:
        source = EvidenceSource.objects.get(code=code)
    except EvidenceSource.DoesNotExist:
        raise SourceUnavailable(f"未知的数据来源：{code}") from None
    if not source.enabled:
        raise SourceUnavailable(f"数据来源已停用：{code}")
    return source


def batch_create(*, source: EvidenceSource, original_name: str, uploaded_by: User | None = None,
                 partner_token: PartnerToken | None = None, file: Any = None) -> EvidenceBatch:
    batch = EvidenceBatch(source=source, original_name=original_name[:255], uploaded_by=uploaded_by,
                          partner_token=partner_token)
    if file is not None:
        batch.file = file
    batch.save()
    return batch


def evidence_import(
    *,
    path: Path,
    source: EvidenceSource,
    batch: EvidenceBatch | None = None,
    encoding: str | None = None,
    uploaded_by: User | None = None,
    today: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import one feed file into Evidence; every data row lands in exactly one bucket.

    Good rows are staged (COPY on PostgreSQL, batched inserts elsewhere) and moved
    into Evidence with one INSERT … SELECT that links pensioners by ID number, sets the
    bucket (the partition key), and skips (source, source_ref, bucket) keys already
    present, so re-importing adds nothing.
    Bad rows go to the errors file with their line number and reason.
    """
    today = today or rules.today_local()
    path = Path(path)
    if batch is None:
        batch = batch_create(source=source, original_name=path.name, uploaded_by=uploaded_by)
    if encoding is None:
        encoding = parsing.detect_encoding(path)
    elif encoding == "utf-8" and path.read_bytes()[:3] == b"\xef\xbb\xbf":
        encoding = "utf-8-sig"
    EvidenceBatch.objects.filter(pk=batch.pk).update(status=EvidenceBatch.Status.PROCESSING, encoding=encoding)

    errors_rel = f"feeds/errors/batch-{batch.pk}-errors.csv"
    errors_path = Path(settings.MEDIA_ROOT) / errors_rel
    private_dir(errors_path.parent)
    counter = _Counter()
    try:
        # CSV on PostgreSQL: the bytes COPYed raw and checked in SQL (bigdata/pgimport.py).
        # JSON Lines, SQLite, and files COPY refuses: parsed and checked here, row by row.
        sql_path = connection.vendor == "postgresql" and os.environ.get("BIGDATA_IMPORT_PATH", "sql") != "python"
        layout = pgimport.header_layout(path, encoding) if sql_path else None
        # Owner-only, and the raw rows defused: never a formula in Excel (DESIGN §7).
        with open_private(errors_path, "w", encoding="utf-8-sig", newline="") as err_fh:
            writer = csv_writer(err_fh)
            writer.writerow(["line", "reason", "raw"])
            with transaction.atomic():
                outcome = None
                if layout is not None:
                    _import_locks(source.pk)
                    try:
                        outcome = pgimport.import_file(path=path, encoding=encoding, layout=layout,
                                                       source_id=source.pk, batch_id=batch.pk, today=today,
                                                       errors_fh=err_fh)
                    except pgimport.FallBack as exc:
                        logger.info("import batch %s: the Python path (%s)", batch.pk, exc)
                if outcome is not None:
                    counter.good, counter.bad = outcome.rows - outcome.rejected, outcome.rejected
                    if progress is not None:  # no row passes through Python: one count at the end
                        progress(outcome.rows)
                    inserted, linked = outcome.inserted, outcome.linked
                else:
                    good = _good_rows(parsing.read_feed(path, encoding=encoding, today=today), writer, counter,
                                      progress)
                    if connection.vendor == "postgresql":
                        inserted, linked = _stage_and_insert_pg(good, source_id=source.pk, batch_id=batch.pk)
                    else:
                        inserted, linked = _stage_and_insert_portable(good, source_id=source.pk, batch_id=batch.pk)
    except parsing.FeedFormatError as exc:
        errors_path.unlink(missing_ok=True)
        EvidenceBatch.objects.filter(pk=batch.pk).update(
            status=EvidenceBatch.Status.FAILED, failure=str(exc)[:500], finished_at=timezone.now())
        raise
    except DatabaseError as exc:
        # The database went away mid-import (crash, restart, killed backend): the import's
        # transaction rolled back and nothing of the file landed. Say so on the batch, which
        # would otherwise stay "processing" for ever (drill 9), and let the caller fail.
        errors_path.unlink(missing_ok=True)
        _batch_mark_failed(batch.pk, f"数据库中断，本批未导入，请重新导入（{type(exc).__name__}）")
        raise
    rows = counter.good + counter.bad
    result = ImportResult(
        batch=batch.pk, rows=rows, accepted=linked, duplicates=counter.good - inserted, rejected=counter.bad,
        unmatched=inserted - linked, errors_file=str(errors_path) if counter.bad else None,
    )
    if not counter.bad:
        errors_path.unlink(missing_ok=True)
    EvidenceBatch.objects.filter(pk=batch.pk).update(
        status=EvidenceBatch.Status.DONE, rows=result.rows, accepted=result.accepted,
        duplicates=result.duplicates, rejected=result.rejected, unmatched=result.unmatched,
        errors_file=errors_rel if counter.bad else "", finished_at=timezone.now(),
    )
    return result


# A database that crashed is back in a few seconds (crash recovery); wait at most this long to record it.
FAILED_MARK_ATTEMPTS = 30


def _batch_mark_failed(batch_id: int, reason: str) -> bool:
    """Mark a batch failed on a fresh connection, retrying while the database restarts (bounded)."""
    if connection.in_atomic_block:
        return False  # the caller's transaction is broken too; it cannot record anything now
    for _ in range(FAILED_MARK_ATTEMPTS):
        try:
            connection.close()
            EvidenceBatch.objects.filter(pk=batch_id).update(
                status=EvidenceBatch.Status.FAILED, failure=reason[:500], finished_at=timezone.now())
            return True
        except DatabaseError:
            time.sleep(1)
    logger.error("import batch %s: could not record the failure", batch_id)
    return False


class _Counter:
    __slots__ = ("good", "bad")

    def __init__(self) -> None:
        self.good = 0
        self.bad = 0


def _good_rows(items: Iterator[parsing.Row | parsing.BadRow], writer: Any, counter: _Counter,
               progress: Callable[[int], None] | None = None) -> Iterator[parsing.Row]:
    bad = parsing.BadRow
    for item in items:
        if type(item) is bad:
            counter.bad += 1
            writer.writerow([item.line, item.reason, item.raw])  # type: ignore[union-attr]
        else:
            counter.good += 1
            if progress is not None and not counter.good % 100_000:
                progress(counter.good + counter.bad)
            yield item  # type: ignore[misc]


_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")


def _copy_escape(value: str) -> str:
    # COPY text format: backslash, tab, newline and CR must be escaped.
    if _NEEDS_ESCAPE.search(value):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def copy_chunks(rows: Iterator[parsing.Row]) -> Iterator[bytes]:
    """COPY text-format lines, ~_COPY_CHUNK bytes per chunk, generated as COPY consumes them."""
    buf: list[str] = []
    esc = _NEEDS_ESCAPE.search
    n = 0
    for line, id_number, _day, ref, name, iso in rows:
        if esc(ref) or esc(name):
            ref, name = _copy_escape(ref), _copy_escape(name)
        buf.append(f"{line}\t{id_number}\t{iso}\t{ref}\t{name}\n")
        n += 1
        if n >= 4096:
            yield "".join(buf).encode()
            buf.clear()
            n = 0
    if buf:
        yield "".join(buf).encode()


class IterStream:
    """A file-like object over an iterator of bytes, for cursor.copy_expert()."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    def read(self, size: int = -1) -> bytes:
        return next(self._chunks, b"")

    def readline(self, size: int = -1) -> bytes:  # psycopg2 may probe for it
        return self.read(size)


_STAGE_COLUMNS = "line integer, id_number varchar(18), event_date date, source_ref varchar(128), name varchar(64)"


def _insert_from_stage_sql(order: str, vendor: str) -> str:
    # The earliest line wins among duplicates inside one file: rows go in line order
    # and ON CONFLICT DO NOTHING skips every later one (per bucket, as the unique key:
    # pgimport._first_line_wins does the same on the SQL path).
    return (
        f"INSERT INTO {_E} (source_id, source_ref, id_number, name, event_date, pensioner_id, batch_id, bucket) "  # noqa: S608 - table names are module constants from Model._meta, values are bound parameters
        f"SELECT %s, s.source_ref, s.id_number, s.name, s.event_date, p.id, %s, {bucket_sql('s.id_number', vendor)} "
        f"FROM bigdata_stage s LEFT JOIN {_P} p ON p.id_number = s.id_number WHERE true {order} "
        f"{pgimport.ON_CONFLICT}"
    )


def _import_locks(source_id: int) -> None:
    """Taken before an import writes evidence, until its transaction ends."""
    set_local_work_mem()
    with connection.cursor() as cur:
        evidence_write_lock_shared(cur)
        # Imports of one source take turns, so "the first line of a repeated source_ref
        # wins" and the bucket counts are about this file alone.
        cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_IMPORT_LOCK_CLASS, source_id])


def _stage_and_insert_pg(rows: Iterator[parsing.Row], *, source_id: int, batch_id: int) -> tuple[int, int]:
    """The Python-checked rows, COPYed into staging and inserted (JSON Lines, or a file COPY refused)."""
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS pg_temp.bigdata_stage")
        cur.execute(f"CREATE TEMP TABLE bigdata_stage ({_STAGE_COLUMNS}) ON COMMIT DROP")
        # Parsing (this process) and COPY (the server) overlap: the server consumes
        # each chunk while the next one is being parsed.
        cur.cursor.copy_expert(
            "COPY bigdata_stage (line, id_number, event_date, source_ref, name) FROM STDIN",
            IterStream(copy_chunks(rows)), size=_COPY_CHUNK,
        )
        cur.execute("ANALYZE bigdata_stage")
        staged = time.perf_counter()
        _import_locks(source_id)
        # No plan may hinge on the evidence table's statistics: the duplicate check is
        # the unique index (ON CONFLICT), and joins are hashed (the planner trap,
        # docs/performance.md).
        cur.execute("SET LOCAL enable_nestloop = off")
        cur.execute(f"WITH ins AS ({_insert_from_stage_sql('ORDER BY s.line', 'postgresql')} RETURNING pensioner_id) "  # noqa: S608 - table names are module constants from Model._meta, values are bound parameters
                    f"SELECT count(*), count(pensioner_id) FROM ins", [source_id, batch_id])
        inserted, linked = cur.fetchone()
        cur.execute("SET LOCAL enable_nestloop TO DEFAULT")
        cur.execute("DROP TABLE pg_temp.bigdata_stage")
        logger.info("import batch %s: parse+COPY %.2f s, insert %.2f s", batch_id, staged - started,
                    time.perf_counter() - staged)
    return int(inserted), int(linked)


def _stage_and_insert_portable(rows: Iterator[parsing.Row], *, source_id: int, batch_id: int) -> tuple[int, int]:
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS temp.bigdata_stage")
        cur.execute(f"CREATE TEMP TABLE bigdata_stage ({_STAGE_COLUMNS})")
        try:
            batch: list[tuple[object, ...]] = []
            for r in rows:
                batch.append((r.line, r.id_number, r.event_date.isoformat(), r.source_ref, r.name))
                if len(batch) >= _PORTABLE_BATCH:
                    cur.executemany("INSERT INTO bigdata_stage VALUES (%s, %s, %s, %s, %s)", batch)
                    batch.clear()
            if batch:
                cur.executemany("INSERT INTO bigdata_stage VALUES (%s, %s, %s, %s, %s)", batch)
            cur.execute(_insert_from_stage_sql("ORDER BY s.line", connection.vendor), [source_id, batch_id])
            cur.execute(f"SELECT count(*), count(pensioner_id) FROM {_E} WHERE batch_id = %s", [batch_id])  # noqa: S608 - table names are module constants from Model._meta, values are bound parameters
            inserted, linked = cur.fetchone()
        finally:
            cur.execute("DROP TABLE IF EXISTS temp.bigdata_stage")
    return int(inserted), int(linked)


# ---- Partner tokens ----------------------------------------------------------

TOKEN_PREFIX = "pf_"  # noqa: S105 - a public marker, not a secret


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def partner_token_create(*, name: str, source: EvidenceSource) -> tuple[PartnerToken, str]:
    """A new key for one partner and source. The key is returned once and stored only as a hash."""
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = PartnerToken.objects.create(name=name, source=source, prefix=key[:10], key_hash=token_hash(key))
    return token, key


def partner_token_issue_key(*, token: PartnerToken) -> str:
    """Give an existing (admin-created) token a fresh key; the old one stops working."""
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token.prefix = key[:10]
    token.key_hash = token_hash(key)
    token.save(update_fields=["prefix", "key_hash"])
    return key


def partner_token_authenticate(key: str) -> PartnerToken | None:
    if not key.startswith(TOKEN_PREFIX):
        return None
    token = PartnerToken.objects.select_related("source").filter(key_hash=token_hash(key), active=True).first()
    if token is not None:
        PartnerToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


@transaction.atomic
def feed_upload(*, source: EvidenceSource, upload: Any, uploaded_by: User | None = None,
                partner_token: PartnerToken | None = None) -> EvidenceBatch:
    """Store an uploaded feed as a pending batch and queue its processing after commit."""
    batch = batch_create(source=source, original_name=getattr(upload, "name", "feed.csv"),
                         uploaded_by=uploaded_by, partner_token=partner_token, file=upload)
    transaction.on_commit(lambda: _batch_dispatch(batch.pk))
    return batch


def _batch_dispatch(batch_id: int) -> None:
    """One publish attempt, bounded by REDIS_SOCKET_TIMEOUT: the upload page never hangs on a dead broker.

    With the broker gone the batch is marked failed with a reason, so the admin's
    "重新排队导入" action (failed or interrupted batches) queues it again (docs/reliability.md, drill 10).
    """
    from .tasks import process_batch

    try:
        process_batch.apply_async((batch_id,), retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker error: say so on the batch
        if process_batch.app.conf.task_always_eager:
            raise  # inline: the import itself failed, not the broker
        logger.warning("import batch %s: not queued (%s)", batch_id, type(exc).__name__)
        EvidenceBatch.objects.filter(pk=batch_id, status=EvidenceBatch.Status.PENDING).update(
            status=EvidenceBatch.Status.FAILED, failure="任务队列暂不可用，尚未导入；请在管理后台“重新排队导入”",
            finished_at=timezone.now())


def batch_process(*, batch_id: int) -> ImportResult | None:
    """Process a pending uploaded batch. Claimed with a conditional update, so a redelivered task is a no-op."""
    claimed = EvidenceBatch.objects.filter(pk=batch_id, status=EvidenceBatch.Status.PENDING).update(
        status=EvidenceBatch.Status.PROCESSING)
    if claimed != 1:
        return None
    batch = EvidenceBatch.objects.select_related("source").get(pk=batch_id)
    try:
        return evidence_import(path=Path(batch.file.path), source=batch.source, batch=batch)
    except parsing.FeedFormatError:
        return None


@transaction.atomic
def fraud_alert_close(*, alert: Any, actor: User, note: str = "") -> bool:
    """Staff have looked into a fraud alert. Conditional update: closing twice is a no-op."""
    closed = FraudAlert.objects.filter(pk=alert.pk, state=FraudAlert.State.OPEN).update(state=FraudAlert.State.CLOSED)
    if closed:
        audit_log(actor=actor, action="fraud_alert_close", pensioner=alert.pensioner, alert=alert.pk, note=note)
    return bool(closed)
