"""The PostgreSQL import path: the file's bytes COPYed raw, every check in SQL (issue 14).

Python never touches a row on this path, except the rare quoted CSV line. The
steps, all in the import's transaction:

1. COPY the file, one line per row, into an UNLOGGED staging table whose identity
   column is the physical line number (the header is line 1). The bytes go to the
   server as they are; `ENCODING` tells it how to decode them (GB18030 for GBK).
   A file COPY cannot take whole (an undecodable byte, a NUL, mixed line ends, a
   `\\.` line) rolls back to a savepoint and takes the portable Python path.
2. The fast rows: the ID number is exactly a pensioner's (stored normalised and
   checked when the roster was imported), the date text is exactly one of the
   valid dates in a small calendar table (every day from 1950-01-01 to today in
   the three formats), the reference is trimmed and short. These go straight into
   Evidence with `INSERT … ON CONFLICT DO NOTHING` on (source, source_ref, bucket),
   the bucket (the partition key) computed from the ID number by
   certification.idnumber.bucket_sql().
3. Every other line (unknown IDs, untrimmed or full-width text, bad rows, quoted
   CSV lines) goes to a small residue table and is checked in full by the SQL copy
   of the rules below (NFKC, trim, upper-case x, shape, GB 11643 check digit,
   birth date, date formats, future and pre-1950 dates, lengths), or by Python for
   quoted lines. Good ones are inserted like the fast rows; bad ones are written
   to the errors file by `COPY … TO STDOUT`, with their line numbers.

The SQL copy of the ID and date rules must say exactly what certification.idnumber
and bigdata.parsing say: tests/bigdata/test_sql_checks_agree.py checks it on a
generated population of valid and invalid numbers and dates.

Plans do not depend on statistics of the evidence table: no statement reads it
(the insert's duplicate check is the unique index itself, one per partition), the staging table is
ANALYZEd before use, and nested loops are off for the transaction, so an empty,
freshly ANALYZEd evidence table (after a truncate or a restore) cannot turn a join
into a nested loop over millions of rows (tests/bigdata/test_import_plan.py).
"""

# SQL below is built from table names in Model._meta, column positions (integers)
# from the parsed header and fixed fragments; every value is a bound parameter.


from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
from django.db import DatabaseError, IntegrityError, connection, transaction

from certification.idnumber import bucket_sql
from certification.models import Pensioner
from certification.spreadsheets import sql_csv_text

from . import parsing
from .models import Evidence

logger = logging.getLogger(__name__)

_E = Evidence._meta.db_table
_P = Pensioner._meta.db_table
# Bytes per COPY read; larger gains nothing measurable.
_COPY_CHUNK = 1 << 20
# Residue rows up to which index look-ups of their pensioners beat hashing the pensioner table.
_RESIDUE_INDEXED = 100_000
# The conflict target: Evidence's unique key (a partitioned table's keys hold the partition key).
ON_CONFLICT = "ON CONFLICT (source_id, source_ref, bucket) DO NOTHING"

# What Python's str.strip() removes (str.isspace()), for btrim(): the two paths must trim alike.
WHITESPACE = (
    " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_CHECK = "10X98765432"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_SHAPE_MSG = "身份证号须为18位（前17位为数字，最后一位为数字或X）"


# ---- The SQL copy of the rules (certification.idnumber, bigdata.parsing) ----------

def id_normalized_sql(raw: str) -> str:
    """idnumber.normalize(): NFKC, trimmed (Python's whitespace), upper-cased. Needs %(ws)s."""
    return f"upper(btrim(normalize({raw}, NFKC), %(ws)s))"


def text_normalized_sql(raw: str) -> str:
    """parsing.normalize_text(): NFKC and trimmed, for the date."""
    return f"btrim(normalize({raw}, NFKC), %(ws)s)"


def _ymd_valid_sql(y: str, m: str, d: str) -> str:
    # A real calendar day, years 1..9999 as Python's date(); guarded so make_date never raises.
    return (
        f"(CASE WHEN {y} BETWEEN 1 AND 9999 AND {m} BETWEEN 1 AND 12 AND {d} >= 1 THEN "
        f"{d} <= date_part('day', make_date({y}, {m}, 1) + interval '1 month' - interval '1 day') "
        f"ELSE false END)"
    )


def id_reason_sql(idn: str) -> str:
    """NULL for a valid normalised number, else the reason idnumber.parse() gives."""
    digit = [f"(ascii(substr({idn}, {i + 1}, 1)) - 48)" for i in range(17)]
    total = " + ".join(f"{w} * {dg}" for w, dg in zip(_WEIGHTS, digit, strict=True))
    y, m, d = (f"substr({idn}, 7, 4)::int", f"substr({idn}, 11, 2)::int", f"substr({idn}, 13, 2)::int")
    return (
        f"CASE WHEN {idn} !~ '^[0-9]{{17}}[0-9X]$' THEN '{_SHAPE_MSG}' "
        f"WHEN substr('{_CHECK}', mod({total}, 11) + 1, 1) <> substr({idn}, 18, 1) THEN '身份证号校验位错误' "
        f"WHEN NOT {_ymd_valid_sql(y, m, d)} OR {y} < 1890 THEN '身份证号中的出生日期无效' END"
    )


def date_parsed_sql(txt: str) -> str:
    """parsing.parse_date(): the date, or NULL when the text is none of the three formats."""
    long_ = (f"substr({txt}, 1, 4)::int", f"substr({txt}, 6, 2)::int", f"substr({txt}, 9, 2)::int")
    short = (f"substr({txt}, 1, 4)::int", f"substr({txt}, 5, 2)::int", f"substr({txt}, 7, 2)::int")
    return (
        f"CASE WHEN {txt} ~ '^[0-9]{{4}}([-/])[0-9]{{2}}\\1[0-9]{{2}}$' AND {_ymd_valid_sql(*long_)} "
        f"THEN make_date({', '.join(long_)}) "
        f"WHEN {txt} ~ '^[0-9]{{8}}$' AND {_ymd_valid_sql(*short)} THEN make_date({', '.join(short)}) END"
    )


def date_reason_sql(txt: str, day: str) -> str:
    """NULL for a usable date, else parsing's reason (format, after today, before 1950). Needs %(today)s."""
    return (
        f"CASE WHEN {day} IS NULL THEN '{parsing.R_DATE_FORMAT}：' || {txt} "
        f"WHEN {day} > %(today)s THEN '{parsing.R_FUTURE}：' || to_char({day}, 'YYYY-MM-DD') "
        f"WHEN {day} < DATE '{parsing.EARLIEST.isoformat()}' THEN '{parsing.R_TOO_OLD}：' || "
        f"to_char({day}, 'YYYY-MM-DD') END"
    )


def row_reason_sql(idn: str, txt: str, ref: str, day: str) -> str:
    """parsing.validate()'s verdict on normalised fields: missing, ID, date, reference length."""
    missing = ", ".join(f"CASE WHEN {v} = '' THEN '{k}' END"
                        for k, v in zip(parsing.REQUIRED, (idn, txt, ref), strict=True))
    return (
        f"CASE WHEN {idn} = '' OR {txt} = '' OR {ref} = '' THEN '{parsing.R_MISSING}：' || concat_ws('、', {missing}) "
        f"ELSE COALESCE({id_reason_sql(idn)}, {date_reason_sql(txt, day)}, "
        f"CASE WHEN length({ref}) > {parsing.MAX_REF} THEN '{parsing.R_REF_TOO_LONG}' END) END"
    )


# ---- The import --------------------------------------------------------------------

class FallBack(Exception):  # noqa: N818 - a signal, not an error
    """The file cannot take this path (COPY refused it); the caller uses the portable one."""


@dataclass(frozen=True)
class Outcome:
    rows: int
    rejected: int
    inserted: int
    linked: int


@dataclass(frozen=True)
class Layout:
    """Where the columns are in the CSV header (1-based, for SQL arrays); name 0 = absent."""

    width: int
    i_id: int
    i_date: int
    i_ref: int
    i_name: int

    @classmethod
    def from_header(cls, header: list[str]) -> Layout:
        pos = {c: header.index(c) + 1 for c in parsing.REQUIRED}
        return cls(len(header), pos["id_number"], pos["event_date"], pos["source_ref"],
                   header.index("name") + 1 if "name" in header else 0)


class _CountingReader:
    """The file's bytes for COPY, counting physical lines on the way (COPY's row count must agree)."""

    def __init__(self, fh: Any) -> None:
        self._fh = fh
        self.newlines = 0
        self.last = b""

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(_COPY_CHUNK)
        if data:
            self.newlines += data.count(b"\n")
            self.last = data[-1:]
        return data

    readline = read  # psycopg2 may probe for it

    @property
    def lines(self) -> int:
        return self.newlines + (1 if self.last not in (b"", b"\n") else 0)


def header_layout(path: Path, encoding: str) -> Layout | None:
    """The CSV header's layout, or None for JSON Lines (which takes the portable path)."""
    with path.open("rb") as fh:
        first = fh.readline()
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    try:
        text = first.decode(parsing.codec_for(encoding))
    except UnicodeDecodeError as exc:
        raise parsing.FeedFormatError("首行无法按所选编码读取") from exc
    if parsing.is_jsonl(path, text):
        return None
    return Layout.from_header(parsing.csv_header(text))


def _pg_encoding(encoding: str) -> str:
    return {"gbk": "GB18030", "utf-8": "UTF8", "utf-8-sig": "UTF8"}[encoding]


def import_file(*, path: Path, encoding: str, layout: Layout, source_id: int, batch_id: int,
                today: dt.date, errors_fh: Any) -> Outcome:
    """Stage, check and insert one CSV file; bad rows are written to errors_fh. Raises FallBack."""
    t0 = time.perf_counter()
    stage, rest = f"bigdata_stage_{int(batch_id)}", f"bigdata_rest_{int(batch_id)}"
    params: dict[str, Any] = {"ws": WHITESPACE, "today": today, "src": source_id, "batch": batch_id}
    with connection.cursor() as cur:
        try:
            with transaction.atomic():
                # Created inside the savepoint, so COPY may FREEZE (no later hint-bit writes).
                cur.execute(f"CREATE UNLOGGED TABLE {stage} (line bigint GENERATED ALWAYS AS IDENTITY, raw text) "
                            f"WITH (autovacuum_enabled = false)")
                with path.open("rb") as fh:
                    reader = _CountingReader(fh)
                    # CSV with a delimiter and a quote that feeds never contain: each line is one field, verbatim.
                    cur.cursor.copy_expert(
                        f"COPY {stage} (raw) FROM STDIN WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02', "
                        f"FREEZE true, ENCODING '{_pg_encoding(encoding)}')", reader, size=_COPY_CHUNK)
                    staged = cur.rowcount
                if staged != reader.lines:
                    raise FallBack(f"COPY read {staged} rows of {reader.lines} lines")
        except (DatabaseError, psycopg2.Error) as exc:
            raise FallBack(str(exc).splitlines()[0]) from exc
        t1 = time.perf_counter()
        cur.execute(f"ANALYZE {stage}")
        # The plans below must not hinge on statistics (docs/performance.md, "planner trap").
        cur.execute("SET LOCAL enable_nestloop = off")
        _calendar(cur, today)
        fields = _fields_sql(stage, layout)
        fast = (
            f"s.n = {layout.width} AND strpos(s.raw, '\"') = 0 AND s.fref <> '' "
            f"AND length(s.fref) <= {parsing.MAX_REF} AND s.fref = btrim(s.fref, %(ws)s)"
        )
        name = f"left(btrim(s.fname, %(ws)s), {parsing.MAX_NAME})" if layout.i_name else "''"
        cur.execute(f"CREATE TEMP TABLE {rest} (line bigint, raw text, blank boolean, idn text, day date, "
                    f"ref text, name text, reason text) ON COMMIT DROP")
        # One pass over the file: the fast rows into Evidence, every other line into the
        # residue (the joined rows are materialised once, in memory, for both inserts).
        one_pass = (
            f"WITH j AS MATERIALIZED (SELECT s.line, s.raw, s.fref, {name} AS name, p.id_number, p.id, d.day, "  # noqa: S608 - only our own table names and header column numbers (ints) are interpolated; values are bound
            f"  (p.id IS NOT NULL AND d.day IS NOT NULL AND COALESCE({fast}, false)) AS fast "
            f"  FROM {fields} LEFT JOIN {_P} p ON p.id_number = s.fid "
            f"  LEFT JOIN bigdata_calendar d ON d.txt = s.fdate), "
            f"ins AS (INSERT INTO {_E} (source_id, source_ref, id_number, name, event_date, pensioner_id, batch_id, "
            f"  bucket) SELECT %(src)s, fref, id_number, name, day, id, %(batch)s, {bucket_sql('id_number', 'postgresql')} "
            f"  FROM j WHERE fast "
            f"  {{conflict}} RETURNING 1), "
            f"r AS (INSERT INTO {rest} (line, raw) SELECT line, raw FROM j WHERE NOT fast RETURNING 1) "
            f"SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM r)"
        )
        on_conflict = ON_CONFLICT
        # ON CONFLICT costs a speculative insertion per row (about 1.6x a plain insert,
        # docs/performance.md). A new feed, the usual case, has no known reference: try
        # the plain insert, and only when the unique index refuses it (a resent file, a
        # repeat inside the file) redo it with ON CONFLICT. A sample of the file's
        # references decides which to try first, so a resent file is not inserted twice.
        if _overlaps(cur, stage, layout, source_id, staged):
            cur.execute(one_pass.format(conflict=on_conflict), params)
        else:
            try:
                with transaction.atomic():
                    cur.execute(one_pass.format(conflict=""), params)
            except IntegrityError:
                cur.execute(one_pass.format(conflict=on_conflict), params)
        fast_inserted, residue = cur.fetchone()
        t2 = time.perf_counter()
        data_lines = staged - 1  # COPY counted the header too
        _check_residue(cur, rest, layout, params)
        cur.execute(f"ANALYZE {rest}")
        if residue <= _RESIDUE_INDEXED:
            # A small residue finds its pensioners through the id_number index (hashing
            # the whole pensioner table cost 1–2 s a feed); with the residue ANALYZEd the
            # loop's outer side is known to be small, and its inner side is an index.
            cur.execute("SET LOCAL enable_nestloop TO DEFAULT")
        cur.execute(
            f"WITH ins AS (INSERT INTO {_E} (source_id, source_ref, id_number, name, event_date, pensioner_id, "  # noqa: S608 - only our own table names and header column numbers (ints) are interpolated; values are bound
            f"batch_id, bucket) SELECT %(src)s, r.ref, r.idn, r.name, r.day, p.id, %(batch)s, "
            f"{bucket_sql('r.idn', 'postgresql')} FROM {rest} r "
            f"LEFT JOIN {_P} p ON p.id_number = r.idn WHERE NOT r.blank AND r.reason IS NULL ORDER BY r.line "
            f"{ON_CONFLICT} RETURNING pensioner_id) "
            f"SELECT count(*), count(pensioner_id) FROM ins", params)
        rest_inserted, rest_linked = cur.fetchone()
        cur.execute("SET LOCAL enable_nestloop = off")
        cur.execute(f"SELECT count(*) FILTER (WHERE blank), count(*) FILTER (WHERE NOT blank AND reason IS NOT NULL) "  # noqa: S608 - only our own table names and header column numbers (ints) are interpolated; values are bound
                    f"FROM {rest}")
        blank, rejected = cur.fetchone()
        if rejected:
            cur.cursor.copy_expert(
                # The raw rows defused: never a formula in Excel (DESIGN §7).
                f"COPY (SELECT line, reason, {sql_csv_text('raw')} FROM {rest} WHERE NOT blank AND reason IS NOT NULL "  # noqa: S608 - only our own table names and header column numbers (ints) are interpolated; values are bound
                f"ORDER BY line) "
                f"TO STDOUT WITH (FORMAT csv)", _TextSink(errors_fh))
        rows = data_lines - blank
        inserted = fast_inserted + rest_inserted
        linked = fast_inserted + rest_linked
        if inserted and rows - rejected > inserted:
            linked = _first_line_wins(cur, stage, rest, layout, params, linked)
        cur.execute(f"DROP TABLE {stage}")
        cur.execute(f"DROP TABLE {rest}")
        cur.execute("SET LOCAL enable_nestloop TO DEFAULT")
    logger.info("import batch %s (SQL path): COPY %.2f s, fast insert %.2f s, residue %.2f s", batch_id,
                t1 - t0, t2 - t1, time.perf_counter() - t2)
    return Outcome(rows=rows, rejected=rejected, inserted=inserted, linked=linked)


def _overlaps(cur: Any, stage: str, layout: Layout, source_id: int, staged: int) -> bool:
    """True when some of the file's first and last references are already stored for this source."""
    cur.execute(f"SELECT split_part(raw, ',', {layout.i_ref}) FROM {stage} "  # noqa: S608 - only our own table names and header column numbers (ints) are interpolated; values are bound
                f"WHERE line BETWEEN 2 AND 101 OR line > %s", [staged - 100])
    sample = [r[0] for r in cur.fetchall()]
    # The unique index, whatever the statistics say (a stale "empty" would pick a seq scan).
    cur.execute("SET LOCAL enable_seqscan = off")
    cur.execute(f"SELECT EXISTS (SELECT 1 FROM {_E} WHERE source_id = %s AND source_ref = ANY(%s))",  # noqa: S608 - only our own table names and header column numbers (ints) are interpolated; values are bound
                [source_id, sample])
    found = bool(cur.fetchone()[0])
    cur.execute("SET LOCAL enable_seqscan TO DEFAULT")
    return found


def _fields_sql(stage: str, layout: Layout) -> str:
    """The data lines split once (OFFSET 0 keeps the planner from repeating string_to_array per use)."""
    name = f"f[{layout.i_name}]" if layout.i_name else "''"
    return (
        f"(SELECT line, raw, cardinality(f) AS n, f[{layout.i_id}] AS fid, f[{layout.i_date}] AS fdate, "  # noqa: S608 - only our own table names and header column numbers (ints) are interpolated; values are bound
        f"f[{layout.i_ref}] AS fref, {name} AS fname "
        f"FROM (SELECT line, raw, string_to_array(raw, ',') AS f FROM {stage} WHERE line > 1 OFFSET 0) a "
        f"OFFSET 0) s"
    )


def _calendar(cur: Any, today: dt.date) -> None:
    """Every usable event date (1950-01-01 … today) as text in the three formats: ~90,000 rows."""
    cur.execute("DROP TABLE IF EXISTS pg_temp.bigdata_calendar")
    # No index: it is only ever hashed (an index tripled the table's cost, 0.3 s an import).
    cur.execute(
        "CREATE TEMP TABLE bigdata_calendar ON COMMIT DROP AS SELECT to_char(g, f) AS txt, g::date AS day "
        "FROM generate_series(%s::date, %s::date, interval '1 day') g, "
        "unnest(ARRAY['YYYY-MM-DD', 'YYYYMMDD', 'YYYY/MM/DD']) f", [parsing.EARLIEST, today])
    cur.execute("ANALYZE bigdata_calendar")


def _check_residue(cur: Any, rest: str, layout: Layout, params: dict[str, Any]) -> None:
    """Full checks on the residue: SQL for plain lines, Python (the csv module) for quoted ones."""
    f = "(string_to_array(r.raw, ','))"
    cur.execute(f"UPDATE {rest} r SET blank = (r.raw IS NULL OR btrim(r.raw, %(ws)s) = '')", params)  # noqa: S608 - only our own table names and header column numbers (ints) are interpolated; values are bound
    idn, txt = id_normalized_sql(f"{f}[{layout.i_id}]"), text_normalized_sql(f"{f}[{layout.i_date}]")
    ref = f"btrim({f}[{layout.i_ref}], %(ws)s)"
    name = f"left(btrim({f}[{layout.i_name}], %(ws)s), {parsing.MAX_NAME})" if layout.i_name else "''"
    cur.execute(
        f"UPDATE {rest} r SET idn = x.idn, ref = x.ref, name = x.name, day = x.day FROM ("  # noqa: S608 - only our own table names and header column numbers (ints) are interpolated; values are bound
        f"  SELECT r.line, {idn} AS idn, {ref} AS ref, {name} AS name, {txt} AS txt FROM {rest} r "
        f"  WHERE NOT r.blank AND strpos(r.raw, '\"') = 0 AND cardinality({f}) = {layout.width}) y, "
        f"LATERAL (SELECT y.idn, y.ref, y.name, {date_parsed_sql('y.txt')} AS day) x WHERE r.line = y.line",
        params)
    cur.execute(
        f"UPDATE {rest} r SET reason = CASE "  # noqa: S608 - only our own table names and header column numbers (ints) are interpolated; values are bound
        f"WHEN cardinality({f}) <> {layout.width} THEN '{parsing.R_MALFORMED}：应有{layout.width}列，实有' "
        f"|| cardinality({f}) || '列' "
        f"ELSE {row_reason_sql('r.idn', text_normalized_sql(f'{f}[{layout.i_date}]'), 'r.ref', 'r.day')} END "
        f"WHERE NOT r.blank AND strpos(r.raw, '\"') = 0", params)
    cur.execute(f"SELECT line, raw FROM {rest} WHERE NOT blank AND strpos(raw, '\"') > 0")  # noqa: S608 - only our own table names and header column numbers (ints) are interpolated; values are bound
    quoted = cur.fetchall()
    if not quoted:
        return
    today = params["today"]
    updates = []
    for line, raw in quoted:
        item = parsing.csv_line(line, raw, layout.width, layout.i_id - 1, layout.i_date - 1, layout.i_ref - 1,
                                layout.i_name - 1, today)
        if isinstance(item, parsing.BadRow):
            updates.append((line, None, None, None, None, item.reason))
        else:
            updates.append((line, item.id_number, item.event_date, item.source_ref, item.name, None))
    cur.executemany(f"UPDATE {rest} SET idn = %s, day = %s, ref = %s, name = %s, reason = %s WHERE line = %s",  # noqa: S608 - only our own table names and header column numbers (ints) are interpolated; values are bound
                    [(*u[1:], u[0]) for u in updates])


def _first_line_wins(cur: Any, stage: str, rest: str, layout: Layout, params: dict[str, Any], linked: int) -> int:
    """A file that repeats a source_ref keeps its first line, as the portable path does.

    Per bucket, like the unique key: lines with the same reference and ID numbers in
    two buckets are two records on both paths (docs/scale.md §2); within a bucket the
    earliest line's content is what stays. Only reached when this import inserted rows
    and skipped others, and it touches only the references the file itself repeats
    (usually none: one aggregate over the file), through the unique index; a resent,
    overlapping feed costs no scan of Evidence. Returns the batch's linked count.
    """
    f = "(string_to_array(s.raw, ','))"
    name = f"left(btrim({f}[{layout.i_name}], %(ws)s), {parsing.MAX_NAME})" if layout.i_name else "''"
    good = (f"SELECT s.line, {f}[{layout.i_ref}] AS ref, {f}[{layout.i_id}] AS idn, d.day, {name} AS name "  # noqa: S608 - only our own table names and header column numbers (ints) are interpolated; values are bound
            f"FROM {stage} s JOIN bigdata_calendar d ON d.txt = {f}[{layout.i_date}] "
            f"WHERE s.line > 1 AND s.line NOT IN (SELECT line FROM {rest}) "
            f"UNION ALL SELECT line, ref, idn, day, name FROM {rest} WHERE NOT blank AND reason IS NULL")
    good = f"SELECT g0.*, {bucket_sql('g0.idn', 'postgresql')} AS bucket FROM ({good}) g0"  # noqa: S608 - fixed SQL
    cur.execute(f"CREATE TEMP TABLE bigdata_first ON COMMIT DROP AS "  # noqa: S608 - only our own table names and header column numbers (ints) are interpolated; values are bound
                f"SELECT DISTINCT ON (ref, bucket) ref, bucket, line, idn, day, name FROM ({good}) g "
                f"WHERE (ref, bucket) IN (SELECT ref, bucket FROM ({good}) h GROUP BY ref, bucket "
                f"HAVING count(*) > 1) ORDER BY ref, bucket, line",
                params)
    repeated = cur.rowcount
    if repeated:
        cur.execute("ANALYZE bigdata_first")
        # A few references, each found through the unique index (not a scan of Evidence).
        cur.execute("SET LOCAL enable_nestloop TO DEFAULT")
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute(
            f"WITH old AS (SELECT e.id, e.pensioner_id IS NOT NULL AS was FROM bigdata_first x "  # noqa: S608 - only our own table names and header column numbers (ints) are interpolated; values are bound
            f"  JOIN {_E} e ON e.source_id = %(src)s AND e.source_ref = x.ref AND e.bucket = x.bucket "
            f"  WHERE e.batch_id = %(batch)s), "
            f"upd AS (UPDATE {_E} e SET id_number = x.idn, event_date = x.day, name = x.name, pensioner_id = p.id "
            f"  FROM bigdata_first x LEFT JOIN {_P} p ON p.id_number = x.idn, old "
            f"  WHERE e.id = old.id AND e.source_id = %(src)s AND e.source_ref = x.ref AND e.bucket = x.bucket "
            f"  AND (e.id_number, e.event_date, e.name) IS DISTINCT FROM (x.idn, x.day, x.name) "
            f"  RETURNING (e.pensioner_id IS NOT NULL)::int - old.was::int AS delta) "
            f"SELECT COALESCE(sum(delta), 0) FROM upd", params)
        linked += int(cur.fetchone()[0])
        cur.execute("SET LOCAL enable_seqscan TO DEFAULT")
        cur.execute("SET LOCAL enable_nestloop = off")
    cur.execute("DROP TABLE bigdata_first")
    return linked


class _TextSink:
    """COPY TO STDOUT writes bytes; the errors file is a text file (UTF-8 with BOM, as the portable path)."""

    def __init__(self, fh: Any) -> None:
        self._fh = fh

    def write(self, data: bytes | str) -> int:
        text = data.decode() if isinstance(data, bytes) else data
        # Excel and csv.reader read either; keep the portable path's CRLF.
        return self._fh.write(text.replace("\n", "\r\n"))


def sql_verdicts(fields: list[tuple[str, str, str]], *, today: dt.date) -> list[tuple[str | None, dt.date | None,
                                                                                     str | None]]:
    """The SQL checks on raw (id_number, event_date, source_ref) triples: (number, date, reason) each.

    For tests/bigdata/test_sql_checks_agree.py: the same expressions the residue
    check runs, on values Python generated.
    """
    params: dict[str, Any] = {"ws": WHITESPACE, "today": today}
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS bigdata_verdicts "
                    "(k integer, id_raw text, date_raw text, ref_raw text)")
        cur.execute("TRUNCATE bigdata_verdicts")
        cur.executemany("INSERT INTO bigdata_verdicts VALUES (%s, %s, %s, %s)",
                        [(k, *row) for k, row in enumerate(fields)])
        idn, txt, ref = (id_normalized_sql("v.id_raw"), text_normalized_sql("v.date_raw"), "btrim(v.ref_raw, %(ws)s)")
        cur.execute(
            f"SELECT y.idn, y.day, {row_reason_sql('y.idn', 'y.txt', 'y.ref', 'y.day')} FROM ("  # noqa: S608 - only our own table names and header column numbers (ints) are interpolated; values are bound
            f"  SELECT x.k, x.idn, x.txt, x.ref, {date_parsed_sql('x.txt')} AS day FROM ("
            f"    SELECT v.k, {idn} AS idn, {txt} AS txt, {ref} AS ref FROM bigdata_verdicts v) x) y ORDER BY y.k",
            params)
        out = [(None, None, reason) if reason else (idn_, day, None) for idn_, day, reason in cur.fetchall()]
        cur.execute("DROP TABLE bigdata_verdicts")
    return out
