"""Drill 9: PostgreSQL killed in the middle of an import; the batch is failed, a rerun lands every good row once.

A PRIVATE PostgreSQL cluster (initdb in var/drills/pg9, port 8144, as drill 5 does):
the machine's shared cluster on 5432 is never stopped, restarted or signalled. It
gets a population and a hospital feed of good rows plus bad ones (wrong check digit).
`import_evidence` runs; once its backend is inside the COPY, that backend is killed
with SIGKILL — only after checking that its parent is OUR postmaster. PostgreSQL then
does what it does for a crashed backend: every connection is dropped and the cluster
recovers. Pass:
  * the import command exits non-zero (it does not report success);
  * its batch is marked `failed` (not left `processing`), and no row of the file landed;
  * a rerun of the same file accepts every good row, once (each source_ref in
    bigdata_evidence exactly once), and reports the bad rows by line as before.

    .venv/bin/python scripts/drills/drill9_postgres_killed_import.py
"""
# ruff: noqa: S603, S607, S608, S311 - an ops script: fixed commands, our own table names, test data

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time

from common import (
    PORT_PG9,
    PY,
    WORK,
    env_for,
    log,
    manage,
    populate,
    query,
    result,
    start,
    start_clean,
)

PGBIN = os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")
PORT = PORT_PG9
DATA = WORK / "pg9"
URL = f"postgres://postgres@127.0.0.1:{PORT}/portal"
N = int(os.environ.get("DRILL9_PENSIONERS", "20000"))
GOOD = int(os.environ.get("DRILL9_GOOD_ROWS", "400000"))
BAD = 2000


def as_postgres(cmd: list[str]) -> list[str]:
    return ["su", "postgres", "-c", " ".join(cmd)] if os.geteuid() == 0 else cmd


def pg_ctl(*args: str) -> None:
    subprocess.run(as_postgres([f"{PGBIN}/pg_ctl", "-D", str(DATA), *args]), check=True, capture_output=True)


def postmaster_pid() -> int:
    return int((DATA / "postmaster.pid").read_text().splitlines()[0])


def parent_of(pid: int) -> int:
    for line in open(f"/proc/{pid}/status").read().splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    return -1


def bad_check_digit(idn: str) -> str:
    last = idn[-1]
    return idn[:-1] + ("0" if last != "0" else "1")


def write_feed(path, ids: list[str]) -> None:  # type: ignore[no-untyped-def]
    rnd = random.Random(9)
    rows = [f"{rnd.choice(ids)},2026-11-0{1 + i % 9},K9-{i}" for i in range(GOOD)]
    rows += [f"{bad_check_digit(rnd.choice(ids))},2026-11-05,K9-BAD-{i}" for i in range(BAD)]
    rnd.shuffle(rows)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("id_number,event_date,source_ref\n")
        fh.write("\n".join(rows) + "\n")


def main() -> None:
    start_clean()
    if DATA.exists():
        try:
            pg_ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(DATA)
    DATA.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(DATA, "postgres", "postgres")
    subprocess.run(as_postgres([f"{PGBIN}/initdb", "-D", str(DATA), "-A", "trust", "-U", "postgres"]),
                   check=True, capture_output=True)
    opts = f"'-p {PORT} -k /tmp -c listen_addresses=127.0.0.1'"
    pg_ctl("-o", opts, "-l", str(DATA / "server.log"), "-w", "start")
    try:
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(PORT), "-U", "postgres", "-c", "CREATE DATABASE portal"],
                       check=True, capture_output=True)
        log(f"populate {N} on the private cluster")
        populate(URL, N)
        ids = [r[0] for r in query(URL, "SELECT id_number FROM certification_pensioner")]
        feed = WORK / "drill9-hospital.csv"
        write_feed(feed, ids)
        log(f"import_evidence {GOOD + BAD} rows; SIGKILL its backend during the COPY")
        out = WORK / "drill9-import.log"
        out.write_text("")
        proc = start([PY, "manage.py", "import_evidence", str(feed), "--source", "hospital"], out, env_for(URL))
        victim, seen_query = None, ""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None and victim is None:
            for pid, q in query(URL, "SELECT pid, query FROM pg_stat_activity WHERE datname = 'portal' "
                                     "AND state = 'active' AND pid <> pg_backend_pid()"):
                if q.lstrip().upper().startswith("COPY"):
                    victim, seen_query = int(pid), q[:120]
                    break
            time.sleep(0.05)
        if victim is None:
            raise RuntimeError("the import finished before its COPY was seen: make the feed bigger")
        assert parent_of(victim) == postmaster_pid(), "not a backend of the private cluster"
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        try:
            proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        import_rc = proc.returncode
        # The cluster recovers by itself (restart_after_crash); wait until it answers.
        for _ in range(120):
            if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", str(PORT)], capture_output=True).returncode == 0:
                break
            time.sleep(0.5)
        recovered_seconds = round(time.monotonic() - killed_at, 1)
        batches = query(URL, "SELECT id, status, failure FROM bigdata_evidencebatch ORDER BY id")
        landed = query(URL, "SELECT count(*) FROM bigdata_evidence WHERE source_ref LIKE 'K9-%%'")[0][0]
        log("rerun the same file")
        rerun = manage(URL, "import_evidence", str(feed), "--source", "hospital")
        refs = query(URL, "SELECT count(*), count(DISTINCT source_ref) FROM bigdata_evidence "
                          "WHERE source_ref LIKE 'K9-%%'")[0]
        killed_batch = batches[-1] if batches else None
        passed = (import_rc != 0 and killed_batch is not None and killed_batch[1] == "failed" and landed == 0
                  and rerun.get("accepted", 0) + rerun.get("unmatched", 0) == GOOD
                  and rerun.get("rejected") == BAD and refs[0] == refs[1] == GOOD)
        result("drill9_postgres_killed_import", passed, pensioners=N, rows=GOOD + BAD, good=GOOD, bad=BAD,
               killed_backend_query=seen_query, import_exit_code=import_rc,
               import_output_tail=out.read_text(errors="replace").strip().splitlines()[-1:],
               recovered_seconds=recovered_seconds, batch_after_kill={"status": killed_batch[1] if killed_batch else
                                                                       None, "failure": killed_batch[2] if
                                                                       killed_batch else None},
               rows_landed_by_killed_import=landed, rerun=rerun,
               evidence_rows=refs[0], distinct_source_refs=refs[1])
    finally:
        try:
            pg_ctl("stop", "-m", "fast")
        except subprocess.CalledProcessError:
            pass


if __name__ == "__main__":
    main()
