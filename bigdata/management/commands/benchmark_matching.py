"""benchmark_matching --pensioners N --evidence M (DESIGN §4), on PostgreSQL.

Builds a synthetic city (streamed into COPY, never held in memory), writes the
evidence feeds to files, then times, in the same run:
- the floor: a raw COPY of the same feed files into a bare table, plus one
  set-based UPDATE … FROM (SELECT max(event_date) … GROUP BY …) on a copy of the
  pensioner table (same indexes, same rows);
- the real thing: import_evidence on every feed file, then run_matching.
  With --workers N (default 1) the night runs as N Celery worker processes would
  run it: the feed files imported N at a time (each its own source, batch and
  transaction, as process_batch tasks), then the matching's partition chunks N at a
  time (bigdata.tasks.matching_chunk's call), each worker on its own connection.
  The floor is the same single COPY and single UPDATE whatever N is.
The last line is {"pensioners","evidence","seconds","floor_seconds","ratio","peak_rss_mb"};
a detail line on stderr splits the times (import vs COPY throughput, matching vs UPDATE).

Destructive: it empties the pensioner and evidence tables, so it refuses to run
on a database whose name does not contain "bench".
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from bigdata.locks import run_lock
from bigdata.matching import chunks_plan, matching_run, run_open
from bigdata.models import EvidenceSource, MatchingRun
from bigdata.services import IterStream, evidence_import
from certification import idnumber, rules
from certification.management.base import JsonCommand
from certification.models import Pensioner, StreetOffice

# Qingdao district codes: ID-number regions for the synthetic city.
REGIONS = ["370202", "370203", "370211", "370212", "370213", "370214", "370215", "370281", "370283", "370285"]
QUALIFYING_FILES = ["hospital", "medical_insurance", "outpatient", "transit"]
BENCH_TABLES = [
    "bigdata_fraudalert", "bigdata_matchingchunk", "bigdata_matchingrun", "bigdata_evidence", "bigdata_evidencebatch",
    "certification_backpayline", "certification_backpay", "certification_overpayment", "certification_statuschange",
    "certification_certification", "certification_auditlog",
]


def person_id(i: int) -> str:
    """The i-th synthetic ID number: unique for i < 10 regions × 1000 sequences × ~36,000 birth days."""
    birth = dt.date(1930, 1, 1) + dt.timedelta(days=i // 10_000)
    return idnumber.make(REGIONS[(i // 1000) % 10], birth, i % 1000)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class Command(JsonCommand):
    help = "Benchmark import + matching against the raw COPY + one UPDATE floor (PostgreSQL only)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--pensioners", type=int, required=True)
        parser.add_argument("--evidence", type=int, required=True)
        parser.add_argument("--seed", type=int, default=20260623)
        parser.add_argument("--today", help="YYYY-MM-DD; default today")
        parser.add_argument("--orm-sample", type=int, default=0,
                            help="also time the naive ORM loop (certification_record per record) on this many "
                                 "records, extrapolated to --evidence (rolled back)")
        parser.add_argument("--workdir", help="where the feed files go (default: a temporary directory)")
        parser.add_argument("--workers", type=int, default=1,
                            help="concurrent workers for the night (feeds imported and partition chunks matched "
                                 "N at a time, each on its own connection); default 1, everything in turn")

    def run(self, **options: Any) -> dict[str, Any]:
        if connection.vendor != "postgresql":
            raise CommandError("benchmark_matching needs PostgreSQL (set DATABASE_URL)")
        db = connection.settings_dict["NAME"]
        if "bench" not in db:
            raise CommandError(f"refusing to empty database {db!r}: use a separate one whose name has 'bench'")
        n, m = options["pensioners"], options["evidence"]
        if n < 1 or m < 1:
            raise CommandError("--pensioners and --evidence must be positive")
        workers = options.get("workers") or 1
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        today = dt.date.fromisoformat(options["today"]) if options.get("today") else rules.today_local()
        rng = random.Random(options["seed"])  # noqa: S311 - synthetic data, not secrets
        detail: dict[str, Any] = {"database": db, "today": today.isoformat(), "workers": workers}

        with connection.cursor() as cur:
            # The floor gets the same memory the import and the matching give themselves.
            cur.execute("SELECT set_config('work_mem', %s, false)", [os.environ.get("BIGDATA_WORK_MEM") or "256MB"])
        with tempfile.TemporaryDirectory(dir=options.get("workdir")) as tmp:
            work = Path(tmp)
            t = time.perf_counter()
            self._reset()
            self._build_pensioners(n, today, rng)
            files = self._write_feeds(work, n, m, today, rng)
            self._analyze()
            detail["build_seconds"] = round(time.perf_counter() - t, 1)
            self.stderr.write(f"built {n} pensioners and {m} evidence rows in {detail['build_seconds']} s")

            floor = self._floor(files, today)
            detail.update(floor)
            self.stderr.write(f"floor: {json.dumps(floor)}")

            t0 = time.perf_counter()
            imported = self._import(files, today, workers)
            t1 = time.perf_counter()
            matched = self._match(today, workers)
            t2 = time.perf_counter()
            detail.update({
                "import_seconds": round(t1 - t0, 2), "matching_seconds": round(t2 - t1, 2),
                "import_rows_per_s": round(m / (t1 - t0)),
                "import_vs_copy_throughput": round((m / (t1 - t0)) / detail["copy_rows_per_s"], 3),
                "matching_vs_update": round((t2 - t1) / floor["floor_update_seconds"], 3),
                "imported": imported, "matched": matched,
            })
            if options["orm_sample"]:
                detail["orm"] = self._orm_baseline(files, options["orm_sample"], m, today, floor, t2 - t0)

        seconds = round(t2 - t0, 2)
        floor_seconds = round(floor["floor_copy_seconds"] + floor["floor_update_seconds"], 2)
        detail["peak_rss_mb"] = peak_rss_mb()
        self.stderr.write("detail: " + json.dumps(detail, ensure_ascii=False, default=str))
        return {
            "pensioners": n, "evidence": m, "seconds": seconds, "floor_seconds": floor_seconds,
            "ratio": round(seconds / floor_seconds, 3), "peak_rss_mb": peak_rss_mb(),
        }

    # ---- the night -------------------------------------------------------------
    def _import(self, files: list[tuple[str, Path]], today: dt.date, workers: int) -> dict[str, int]:
        """import_evidence of every feed file, `workers` at a time (each file is its own source)."""
        def one(code: str, path: Path) -> Any:
            try:
                return evidence_import(path=path, source=EvidenceSource.objects.get(code=code), today=today)
            finally:
                if workers > 1:
                    connection.close()  # this thread's own connection

        if workers == 1:
            results = [one(code, path) for code, path in files]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(lambda f: one(*f), files))
        keys = ("rows", "accepted", "unmatched", "rejected", "duplicates")
        return {k: sum(getattr(r, k) for r in results) for k in keys}

    def _match(self, today: dt.date, workers: int) -> dict[str, Any]:
        """run_matching; with workers > 1, the run's partition chunks `workers` at a time."""
        if workers == 1:
            return matching_run(today=today)
        started = time.perf_counter()
        with run_lock():
            run = run_open(today=today)
            todo = [(c.pk_lo, c.pk_hi) for c in chunks_plan(run) if c.done_at is None]

        def one(bucket_range: tuple[int, int]) -> dict[str, Any]:
            try:
                return matching_run(today=today, bucket_range=bucket_range, run_id=run.pk)
            finally:
                connection.close()  # this thread's own connection

        with ThreadPoolExecutor(max_workers=workers) as pool:
            chunks = list(pool.map(one, todo))
        run.refresh_from_db()
        if run.status != MatchingRun.Status.DONE:
            raise CommandError(f"matching run {run.pk} did not finish: {run.status}")
        return {**run.counts, "seconds": round(time.perf_counter() - started, 3),
                "chunk_seconds": [c["seconds"] for c in chunks]}

    # ---- building the city ---------------------------------------------------
    def _reset(self) -> None:
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS bench_floor_evidence, bench_floor_pensioner")
            cur.execute(f"TRUNCATE {', '.join(BENCH_TABLES)}, {Pensioner._meta.db_table} CASCADE")

    def _build_pensioners(self, n: int, today: dt.date, rng: random.Random) -> None:
        offices = list(StreetOffice.objects.values_list("pk", flat=True))
        fields = [f for f in Pensioner._meta.concrete_fields if not f.primary_key]
        now = timezone.now().isoformat()
        fixed = {"created_at": now, "updated_at": now, "enrolled_on": "2020-01-01"}

        def rows() -> Iterator[str]:
            for i in range(n):
                # A city in steady state: most people confirmed within the year, some in
                # the warning window, a few suspended (DESIGN §1: ~95% silent).
                dice = rng.random()
                if dice < 0.90:
                    vu = today + dt.timedelta(days=rng.randint(0, 365))
                elif dice < 0.97:
                    vu = today - dt.timedelta(days=rng.randint(1, 89))
                else:
                    vu = today - dt.timedelta(days=rng.randint(93, 400))
                status = rules.status(vu, today)
                id_number = person_id(i)
                parsed = idnumber.parse(id_number)
                values = {
                    "id_number": id_number, "name": f"测试{i}", "birth_date": parsed.birth_date.isoformat(),
                    "sex": parsed.sex, "phone": f"139{i:08d}", "street_office": str(offices[i % len(offices)]),
                    "monthly_amount": str(Decimal(2000 + i % 3000)), "valid_until": vu.isoformat(),
                    "status": status.value,
                    "suspended_since": rules.suspension_date(vu).isoformat() if status == "suspended" else None,
                    **fixed,
                }
                out = []
                for f in fields:
                    if f.name in values:
                        v = values[f.name]
                    elif f.null:
                        v = None
                    else:
                        d = f.get_default()  # "" for text fields without a default
                        if d is None:
                            raise CommandError(f"benchmark does not know how to fill {f.name}")
                        v = ("t" if d else "f") if isinstance(d, bool) else str(d)
                    out.append("\\N" if v is None else v)
                yield "\t".join(out) + "\n"

        cols = ", ".join(f.column for f in fields)  # identifiers from _meta
        with connection.cursor() as cur:
            cur.cursor.copy_expert(f"COPY {Pensioner._meta.db_table} ({cols}) FROM STDIN",
                                   IterStream(_chunks(rows())), size=1 << 18)

    def _write_feeds(self, work: Path, n: int, m: int, today: dt.date,
                     rng: random.Random) -> list[tuple[str, Path]]:
        """Qualifying feeds of ~equal size plus one death feed (0.1% of pensioners); 1% unknown IDs."""
        deaths = min(max(n // 1000, 1), m // 10 or 1)
        qualifying = m - deaths
        files: list[tuple[str, Path]] = []
        ref = 0
        per_file = -(-qualifying // len(QUALIFYING_FILES))
        for code in QUALIFYING_FILES:
            count = min(per_file, qualifying - ref)
            if count <= 0:
                break
            path = work / f"{code}.csv"
            with path.open("w", encoding="utf-8") as fh:
                fh.write("id_number,event_date,source_ref\n")
                buf = []
                for _ in range(count):
                    ref += 1
                    i = rng.randrange(n + n // 100)  # i >= n: nobody we know (unmatched)
                    day = today - dt.timedelta(days=rng.randint(0, 365))
                    buf.append(f"{person_id(i)},{day.isoformat()},{code}-{ref}\n")
                    if len(buf) >= 10_000:
                        fh.write("".join(buf))
                        buf.clear()
                fh.write("".join(buf))
            files.append((code, path))
        path = work / "death_civil.csv"
        with path.open("w", encoding="utf-8") as fh:
            fh.write("id_number,event_date,source_ref\n")
            for k in range(deaths):
                day = today - dt.timedelta(days=rng.randint(0, 200))
                fh.write(f"{person_id(rng.randrange(n))},{day:%Y%m%d},MZ-{k}\n")
        files.append(("death_civil", path))
        return files

    def _analyze(self) -> None:
        with connection.cursor() as cur:
            cur.execute(f"VACUUM ANALYZE {Pensioner._meta.db_table}")

    # ---- the floor -----------------------------------------------------------
    def _floor(self, files: list[tuple[str, Path]], today: dt.date) -> dict[str, Any]:
        """Raw COPY of the same files, then one set-based UPDATE on a copy of the pensioner table."""
        p = Pensioner._meta.db_table
        with connection.cursor() as cur:
            cur.execute("CREATE TABLE bench_floor_evidence (id_number varchar(18), event_date date, source_ref varchar(128))")
            cur.execute(f"CREATE TABLE bench_floor_pensioner (LIKE {p} INCLUDING ALL)")
            cur.execute(f"INSERT INTO bench_floor_pensioner SELECT * FROM {p}")  # noqa: S608 - table from _meta
            cur.execute("VACUUM ANALYZE bench_floor_pensioner")
        rows = 0
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            for _code, path in files:
                with path.open("rb") as fh:
                    cur.cursor.copy_expert(
                        "COPY bench_floor_evidence FROM STDIN WITH (FORMAT csv, HEADER true)", fh, size=1 << 18)
                    rows += cur.rowcount
        t1 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            # The floor leaves the calendar rule out on purpose (interval arithmetic):
            # it is the bare cost of one aggregate and one UPDATE.
            cur.execute(
                "UPDATE bench_floor_pensioner p SET valid_until = GREATEST(p.valid_until, (x.d + INTERVAL '12 months')::date) "
                "FROM (SELECT id_number, max(event_date) AS d FROM bench_floor_evidence GROUP BY id_number) x "
                "WHERE p.id_number = x.id_number"
            )
            updated = cur.rowcount
        t2 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("DROP TABLE bench_floor_evidence, bench_floor_pensioner")
        return {
            "floor_copy_seconds": round(t1 - t0, 2), "floor_update_seconds": round(t2 - t1, 2),
            "copy_rows_per_s": round(rows / (t1 - t0)), "floor_rows": rows, "floor_updated": updated,
        }

    # ---- the ORM-loop baseline -----------------------------------------------
    def _orm_baseline(self, files: list[tuple[str, Path]], k: int, m: int, today: dt.date,
                      floor: dict[str, Any], ours: float) -> dict[str, Any]:
        """What a naive loop costs: per record, find the person and call certification_record."""
        from certification.services import certification_record

        sample: list[tuple[str, dt.date, str, str]] = []
        for code, path in files[:1]:
            with path.open(encoding="utf-8") as fh:
                next(fh)
                for line in fh:
                    id_number, day, ref = line.rstrip("\n").split(",")
                    sample.append((id_number, dt.date.fromisoformat(day), ref, code))
                    if len(sample) >= k:
                        break
        t0 = time.perf_counter()
        with transaction.atomic():
            for id_number, day, ref, code in sample:
                p = Pensioner.objects.filter(id_number=id_number).first()
                if p is None or p.status == "deceased":
                    continue
                certification_record(pensioner=p, method="big_data", occurred_on=day, today=today, source=code,
                                     evidence_ref=f"orm-{ref}")  # rolled back below
            elapsed = time.perf_counter() - t0
            transaction.set_rollback(True)
        per_row = elapsed / max(len(sample), 1)
        return {"sample": len(sample), "sample_seconds": round(elapsed, 2),
                "extrapolated_seconds": round(per_row * m), "vs_set_based": round(per_row * m / ours, 1)}


def _chunks(lines: Iterator[str]) -> Iterator[bytes]:
    buf = io.StringIO()
    for line in lines:
        buf.write(line)
        if buf.tell() >= 1 << 18:
            yield buf.getvalue().encode()
            buf = io.StringIO()
    if buf.tell():
        yield buf.getvalue().encode()


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run via manage.py benchmark_matching")
