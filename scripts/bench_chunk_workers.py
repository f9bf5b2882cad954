"""One night's matching on the portal's real, partitioned tables: 1 worker, then 2 (issue 14).

Builds benchmark_matching's synthetic city (pensioners, feed files, the real
import into the partitioned `bigdata_evidence`) once, copies the database twice
(CREATE DATABASE … TEMPLATE, so both start from the same rows), and on each copy
runs the night's matching chunks, one per partition (bigdata.partitions), with W
worker processes taking the next undone chunk from a shared counter, as Celery
workers take matching_chunk tasks; and, on a third copy, the same night as one
chunk over every bucket (all partitions in one transaction), for contrast. Each worker calls the same
bigdata.matching.matching_run(bucket_range=…, run_id=…) the Celery task calls.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_h2_bench \\
      .venv/bin/python scripts/bench_chunk_workers.py --pensioners 200000 --evidence 1000000

Destructive on databases whose name contains "bench" only. Prints one JSON object last.
"""

# ruff: noqa: S608 - database names are checked to be identifiers containing "bench"

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _admin(url: str, sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def _build(n: int, m: int, today: dt.date) -> dict[str, float]:
    from bigdata.management.commands.benchmark_matching import Command
    from bigdata.models import EvidenceSource
    from bigdata.services import evidence_import

    cmd = Command()
    rng = random.Random(20260623)  # noqa: S311 - synthetic data
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        cmd._reset()
        cmd._build_pensioners(n, today, rng)
        files = cmd._write_feeds(Path(tmp), n, m, today, rng)
        cmd._analyze()
        t1 = time.perf_counter()
        for code, path in files:
            evidence_import(path=path, source=EvidenceSource.objects.get(code=code), today=today)
    t2 = time.perf_counter()
    return {"build_seconds": round(t1 - t0, 1), "import_seconds": round(t2 - t1, 1)}


def _worker(url: str, run_id: int, ranges: list[tuple[int, int]], counter, today: str, out) -> None:  # type: ignore[no-untyped-def]
    _setup(url)
    from bigdata.matching import matching_run

    while True:
        with counter.get_lock():
            i = counter.value
            counter.value += 1
        if i >= len(ranges):
            return
        t = time.perf_counter()
        matching_run(today=dt.date.fromisoformat(today), bucket_range=ranges[i], run_id=run_id)
        out.put((i, os.getpid(), round(time.perf_counter() - t, 2)))


def _night(url: str, workers: int, today: dt.date, *, whole: bool = False) -> dict[str, object]:
    ctx = mp.get_context("spawn")
    # The run is planned by one process (as the beat task does), then the workers take chunks.
    # whole=True: one chunk over every bucket (all partitions in one transaction), for contrast.
    q = ctx.Queue()
    planner = ctx.Process(target=_plan, args=(url, today.isoformat(), q, whole))
    planner.start()
    planned = q.get()
    planner.join()
    counter, out = ctx.Value("i", 0), ctx.Queue()
    t = time.perf_counter()
    procs = [ctx.Process(target=_worker, args=(url, planned["run"], planned["ranges"], counter,
                                               today.isoformat(), out)) for _ in range(workers)]
    for p in procs:
        p.start()
    chunks = sorted(out.get() for _ in range(len(planned["ranges"])))
    for p in procs:
        p.join()
    wall = round(time.perf_counter() - t, 2)
    return {"workers": workers, "seconds": wall, "chunk_seconds": [c[2] for c in chunks],
            "processes": len({c[1] for c in chunks}), "totals": _totals(url, planned["run"])}


def _plan(url: str, today: str, q, whole: bool) -> None:  # type: ignore[no-untyped-def]
    _setup(url)
    from bigdata import partitions
    from bigdata.locks import run_lock
    from bigdata.matching import chunks_plan, run_open

    with run_lock():
        run = run_open(today=dt.date.fromisoformat(today))
        if whole:  # matching_run(bucket_range=…) creates the one chunk itself
            q.put({"run": run.pk, "ranges": [(partitions.OPEN_LO, partitions.OPEN_HI)]})
            return
        chunks = chunks_plan(run)
    q.put({"run": run.pk, "ranges": [(c.pk_lo, c.pk_hi) for c in chunks]})


def _totals(url: str, run_id: int) -> dict[str, object]:
    import psycopg2

    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT status, counts FROM bigdata_matchingrun WHERE id = %s", [run_id])
        status, counts = cur.fetchone()
    conn.close()
    return {"status": status, **(counts or {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pensioners", type=int, default=200_000)
    parser.add_argument("--evidence", type=int, default=1_000_000)
    parser.add_argument("--today", help="YYYY-MM-DD; default today (Asia/Shanghai)")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
    db = url.rsplit("/", 1)[1]
    if "bench" not in db or not re.fullmatch(r"[a-z0-9_]+", db):
        sys.exit(f"refusing: database name must contain 'bench' ({db})")
    _setup(url)
    from django.core.management import call_command
    from django.db import connections

    from certification import rules

    today = dt.date.fromisoformat(args.today) if args.today else rules.today_local()
    call_command("migrate", verbosity=0)
    figures: dict[str, object] = {"pensioners": args.pensioners, "evidence": args.evidence,
                                  "load_start": os.getloadavg()}
    figures.update(_build(args.pensioners, args.evidence, today))
    connections.close_all()
    nights = {"w1": (1, False), "w2": (2, False), "whole": (1, True)}
    for name in nights:
        _admin(url, f"DROP DATABASE IF EXISTS {db}_{name}")
        _admin(url, f"CREATE DATABASE {db}_{name} TEMPLATE {db}")
    for name, (w, whole) in nights.items():
        figures[name] = _night(url.rsplit("/", 1)[0] + f"/{db}_{name}", w, today, whole=whole)
        figures[f"load_after_{name}"] = os.getloadavg()
    for name in nights:
        _admin(url, f"DROP DATABASE IF EXISTS {db}_{name}")
    figures["speed_up"] = round(figures["w1"]["seconds"] / figures["w2"]["seconds"], 2)  # type: ignore[index]
    figures["same_totals"] = (figures["w1"]["totals"] == figures["w2"]["totals"]  # type: ignore[index]
                              == figures["whole"]["totals"])  # type: ignore[index]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
