"""The partitioned path's cost model, measured (docs/scale.md).

A scratch schema `bench_part` in a database whose name contains "bench" (never the
portal's own tables): pensioners and evidence, both LIST-partitioned on the
pensioner's bucket (hash of the ID number mod P), so one matching chunk is one
partition pair. For each partition it times the night's heaviest statement, the
latest-evidence aggregate and the validity UPDATE, restricted to `bucket = k` (the
EXPLAIN is printed once, to show the other partitions pruned), with 1 and with 2
worker processes taking partitions from a shared counter. For contrast it times one
range chunk of the same size on an unpartitioned copy (the current layout), which
has to scan the whole night's evidence.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_h7_bench \\
      .venv/bin/python scripts/bench_partitions.py --pensioners 1000000 --partitions 8

Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from urllib.parse import urlparse

import psycopg2

SCHEMA = "bench_part"
STATEMENT = (
    "UPDATE {s}.pensioner p SET valid_until = GREATEST(p.valid_until, (x.d + INTERVAL '12 months')::date) "
    "FROM (SELECT pensioner_id, max(event_date) AS d FROM {s}.evidence WHERE bucket = %(k)s "
    "AND event_date <= DATE '2026-12-01' GROUP BY pensioner_id) x "
    "WHERE p.bucket = %(k)s AND p.id = x.pensioner_id"
)
FLAT = (
    "UPDATE {s}.pensioner_flat p SET valid_until = GREATEST(p.valid_until, (x.d + INTERVAL '12 months')::date) "
    "FROM (SELECT pensioner_id, max(event_date) AS d FROM {s}.evidence_flat WHERE pensioner_id >= %(a)s "
    "AND pensioner_id < %(b)s AND event_date <= DATE '2026-12-01' GROUP BY pensioner_id) x "
    "WHERE p.id = x.pensioner_id AND p.id >= %(a)s AND p.id < %(b)s"
)


def connect(url: str):  # type: ignore[no-untyped-def]
    u = urlparse(url)
    conn = psycopg2.connect(host=u.hostname, port=u.port or 5432, user=u.username or "postgres",
                            password=u.password or None, dbname=u.path.lstrip("/"))
    with conn.cursor() as cur:
        cur.execute("SET work_mem = '256MB'")
    conn.commit()
    return conn


def build(url: str, n: int, per: int, parts: int) -> float:
    t = time.perf_counter()
    conn = connect(url)
    s = SCHEMA
    with conn.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {s} CASCADE")
        cur.execute(f"CREATE SCHEMA {s}")
        cur.execute(f"CREATE TABLE {s}.pensioner (id bigint, id_number varchar(18), bucket int, valid_until date, "
                    f"PRIMARY KEY (bucket, id)) PARTITION BY LIST (bucket)")
        cur.execute(f"CREATE TABLE {s}.evidence (id bigint, bucket int, pensioner_id bigint, source_id int, "
                    f"source_ref varchar(128), event_date date, UNIQUE (bucket, source_id, source_ref)) "
                    f"PARTITION BY LIST (bucket)")
        for k in range(parts):
            cur.execute(f"CREATE TABLE {s}.pensioner_{k} PARTITION OF {s}.pensioner FOR VALUES IN ({k})")
            cur.execute(f"CREATE TABLE {s}.evidence_{k} PARTITION OF {s}.evidence FOR VALUES IN ({k})")
        # The bucket is a function of the ID number (here of the synthetic id): evidence
        # for an unknown person lands in the partition it will belong to.
        cur.execute(f"INSERT INTO {s}.pensioner SELECT g, lpad(g::text, 18, '0'), g % {parts}, "  # noqa: S608 - ints
                    f"DATE '2026-06-01' + (g % 300) FROM generate_series(1, {n}) g")
        cur.execute(f"INSERT INTO {s}.evidence SELECT g, p % {parts}, p, 1 + g % 4, 'R-' || g, "  # noqa: S608 - ints
                    f"DATE '2025-12-01' + (g * 7 % 365) FROM (SELECT g, 1 + (g * 2654435761) % {n} AS p "
                    f"FROM generate_series(1, {n * per}) g) x")
        cur.execute(f"CREATE TABLE {s}.pensioner_flat AS SELECT * FROM {s}.pensioner")  # noqa: S608 - constant
        cur.execute(f"ALTER TABLE {s}.pensioner_flat ADD PRIMARY KEY (id)")
        cur.execute(f"CREATE TABLE {s}.evidence_flat AS SELECT * FROM {s}.evidence")  # noqa: S608 - constant
        cur.execute(f"CREATE UNIQUE INDEX ON {s}.evidence_flat (source_id, source_ref)")
    conn.commit()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"VACUUM ANALYZE {s}.pensioner, {s}.evidence, {s}.pensioner_flat, {s}.evidence_flat")
    conn.close()
    return time.perf_counter() - t


def explain(url: str) -> str:
    conn = connect(url)
    with conn.cursor() as cur:
        cur.execute("EXPLAIN " + STATEMENT.format(s=SCHEMA), {"k": 0})
        plan = "\n".join(r[0] for r in cur.fetchall())
    conn.rollback()
    conn.close()
    return plan


def _worker(url: str, parts: int, counter, out) -> None:  # type: ignore[no-untyped-def]
    conn = connect(url)
    sql = STATEMENT.format(s=SCHEMA)
    while True:
        with counter.get_lock():
            k = counter.value
            counter.value += 1
        if k >= parts:
            break
        t = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute(sql, {"k": k})
        conn.commit()
        out.put((k, time.perf_counter() - t))
    conn.close()


def run(url: str, parts: int, workers: int) -> dict:
    counter, out = mp.Value("i", 0), mp.Queue()
    t = time.perf_counter()
    procs = [mp.Process(target=_worker, args=(url, parts, counter, out)) for _ in range(workers)]
    for p in procs:
        p.start()
    times = sorted(out.get() for _ in range(parts))
    for p in procs:
        p.join()
    wall = time.perf_counter() - t
    per = [round(x, 3) for _, x in times]
    return {"workers": workers, "wall_seconds": round(wall, 2), "per_partition_seconds": per,
            "median_partition_seconds": sorted(per)[len(per) // 2]}


def flat_chunk(url: str, n: int, parts: int) -> float:
    conn = connect(url)
    t = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(FLAT.format(s=SCHEMA), {"a": 1, "b": 1 + n // parts})
    conn.commit()
    conn.close()
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pensioners", type=int, required=True)
    ap.add_argument("--per-pensioner", type=int, default=5)
    ap.add_argument("--partitions", type=int, default=8)
    args = ap.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if "bench" not in urlparse(url).path:
        sys.exit("refusing: DATABASE_URL must name a database whose name contains 'bench'")
    n, parts = args.pensioners, args.partitions
    built = build(url, n, args.per_pensioner, parts)
    plan = explain(url)
    print(plan, file=sys.stderr)
    others = [f"{t}_{k} " for t in ("evidence", "pensioner") for k in range(1, parts)]
    pruned = "evidence_0 " in plan and "pensioner_0 " in plan and not any(o in plan for o in others)
    one = run(url, parts, 1)
    two = run(url, parts, 2)
    flat = flat_chunk(url, n, parts)
    result = {
        "pensioners": n, "evidence": n * args.per_pensioner, "partitions": parts, "build_seconds": round(built, 1),
        "pruned_to_one_partition": bool(pruned), "one_worker": one, "two_workers": two,
        "flat_range_chunk_seconds": round(flat, 2),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
