"""Drill 3: kill Celery worker processes in the middle of the nightly chord; the night completes, equal to a control.

Beat's nightly task (`certification.run_nightly`) only plans the night: it fans the
matching out as a chord of `bigdata.tasks.matching_chunk` tasks (one per evidence partition)
whose callback `certification.nightly_after_matching` runs transitions, reminders
and the dashboard snapshot. So the drill kills the processes doing the work, and
waits for the night to be DONE by the chord's last task's own record in the
database: the day's `dashboards_snapshot` row (written by nightly_after_matching),
built after the last kill, with the matching run DONE and every chunk done. Then it
compares with a control night on a copy of the same database (CREATE DATABASE …
TEMPLATE), run by a real worker without interference.

Population: prepare_matching_db (pensioners plus imported, not yet matched hospital
and death feeds). Night 2027-01-15. Broker: a PRIVATE redis-server (8140), one
prefork worker (concurrency 1) on a queue of its own. Chunks hold their transaction
open BIGDATA_CHUNK_PAUSE_SECONDS (1 s) so that "during a chunk" is a real window.

Scenarios, each on its own copy of the database:
  chunk  SIGKILL the pool process while a matching chunk runs (the 2nd chunk):
         acks_late + task_reject_on_worker_lost requeue it at once.
  after  SIGKILL the pool process while nightly_after_matching runs.
  main   SIGKILL the worker's MAIN process (and its pool child: the host died) during a
         chunk, with CELERY_VISIBILITY_TIMEOUT=20 s for the drill; a new worker is
         started; Redis redelivers the unacknowledged message after the visibility
         timeout and the night completes.
Pass, for each: the night completed, the pensioner checksum and every row count equal
the control (nothing doubled, nothing missing), and the killed task was received again.

    .venv/bin/python scripts/drills/drill3_worker_killed.py
"""
# ruff: noqa: S603, S607, S608, S311 - an ops script: fixed commands, our own table names, test data

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

from common import (
    PORT_REDIS,
    PY,
    ROOT,
    WORK,
    db_url,
    drop_db,
    env_for,
    log,
    pensioner_checksum,
    prepare_matching_db,
    query,
    recreate_db,
    redis_start,
    redis_stop,
    result,
    start_clean,
    stop,
    table_counts,
    wait_for,
    worker_start,
)

N = int(os.environ.get("DRILL3_PENSIONERS", "200000"))
EVIDENCE = int(os.environ.get("DRILL3_EVIDENCE", str(N * 3 // 2)))
DAY = "2027-01-15"
REDIS_PORT = PORT_REDIS
QUEUE = "drill3"
VISIBILITY = 20
# Kombu's restore sweep (unacked_restore_interval x unacked_restore_throttle s, config/celery.py):
# None keeps kombu's defaults (10 x 10, as in production); the CI copy sets 1 (x 1) to be quick.
RESTORE_EVERY: int | None = None
PAUSE = "1"
TABLES = ["certification_certification", "certification_statuschange", "certification_backpay",
          "certification_backpayline", "certification_overpayment", "bigdata_fraudalert",
          "notifications_message", "dashboards_figure", "dashboards_snapshot"]


def state(url: str) -> dict:
    return {"checksum": pensioner_checksum(url), **table_counts(url, TABLES),
            "outbox_dedup_keys_doubled": query(url, "SELECT count(*) - count(DISTINCT dedup_key) "
                                                    "FROM notifications_message")[0][0],
            "runs": dict(query(url, "SELECT status, count(*) FROM bigdata_matchingrun GROUP BY 1"))}


def _chunks(url: str) -> tuple[int, int]:
    row = query(url, "SELECT count(*), count(done_at) FROM bigdata_matchingchunk c JOIN bigdata_matchingrun r "
                     "ON r.id = c.run_id WHERE r.run_on = %s", [DAY])
    return int(row[0][0]), int(row[0][1])


def _snapshot_after(url: str, since: str | None) -> bool:
    sql = "SELECT count(*) FROM dashboards_snapshot WHERE day = %s"
    args: list = [DAY]
    if since:
        sql += " AND built_at > %s"
        args.append(since)
    return query(url, sql, args)[0][0] == 1


def _db_now(url: str) -> str:
    return str(query(url, "SELECT now()")[0][0])


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(x) for x in out]


def night(url: str, *, kill: str | None, chunk_size: int, tag: str, timeout: float = 1800) -> dict:
    """One night through a real worker; `kill` in (None, 'chunk', 'after', 'main'). Returns its figures."""
    broker = f"redis://127.0.0.1:{REDIS_PORT}/0"
    extra = {"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY)} if kill == "main" else {}
    if kill == "main" and RESTORE_EVERY:
        extra.update(CELERY_UNACKED_RESTORE_INTERVAL=str(RESTORE_EVERY), CELERY_UNACKED_RESTORE_THROTTLE="1")
    env = env_for(url, REDIS_URL=broker, CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=broker,
                  CELERY_TASK_ALWAYS_EAGER="0", BIGDATA_CHUNK_PAUSE_SECONDS=PAUSE, **extra)
    redis_start(REDIS_PORT)
    wlog = WORK / f"drill3-{tag}-worker.log"
    workers = [worker_start(env, wlog, queues=QUEUE, name=f"drill3-{tag}")]
    fig: dict = {"kill": kill}
    try:
        t0 = time.monotonic()
        send = ("import django; django.setup()\nfrom certification.tasks import run_nightly_task\n"
                f"run_nightly_task.apply_async(({DAY!r}, {QUEUE!r}, {chunk_size}), queue={QUEUE!r})\n")
        subprocess.run([PY, "-c", send], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
        since = None
        if kill in ("chunk", "main"):
            # The 2nd chunk is running once the 1st is done (one worker, one task at a time).
            wait_for(lambda: _chunks(url)[1] >= 1, timeout=timeout, every=0.05, what="first chunk done")
            time.sleep(0.4)
            total, done = _chunks(url)
            fig["chunks_done_at_kill"], fig["chunks"] = done, total
            fig["killed_while_running"] = done < total
        elif kill == "after":
            wait_for(lambda: (lambda c: c[0] > 0 and c[0] == c[1])(_chunks(url)), timeout=timeout, every=0.05,
                     what="all chunks done")
            time.sleep(0.3)
            fig["killed_while_running"] = not _snapshot_after(url, None)
        if kill:
            main = workers[0].pid
            pool = _children(main)
            since = _db_now(url)
            if kill == "main":
                log(f"[{tag}] kill -9 worker MAIN process {main} (then its pool {pool}: the host died)")
                os.kill(main, signal.SIGKILL)
                for pid in pool:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                workers[0].wait(timeout=30)
                time.sleep(1)
                workers.append(worker_start(env, WORK / f"drill3-{tag}-worker2.log", queues=QUEUE,
                                            name=f"drill3-{tag}-2"))
            else:
                log(f"[{tag}] kill -9 pool process {pool} of worker {main}")
                for pid in pool:
                    os.kill(pid, signal.SIGKILL)
            killed_at = time.monotonic()
        # Done = the chord's last task's own record: today's snapshot, built after the kill.
        wait_for(lambda: _snapshot_after(url, since) and (lambda c: c[0] == c[1] > 0)(_chunks(url)),
                 timeout=timeout, every=0.5, what="the night's snapshot")
        fig["night_seconds"] = round(time.monotonic() - t0, 1)
        if kill:
            fig["completed_after_kill_seconds"] = round(time.monotonic() - killed_at, 1)
        time.sleep(1)  # the callback's last step (frames purge) and the ack
    finally:
        for w in workers:
            stop(w)
        redis_stop(REDIS_PORT)
    text = "".join((WORK / f).read_text(errors="replace") for f in os.listdir(WORK)
                   if f.startswith(f"drill3-{tag}-worker"))
    fig["received"] = {name: len(re.findall(rf"Task {re.escape(name)}\[[^\]]+\] received", text))
                       for name in ("bigdata.tasks.matching_chunk", "certification.nightly_after_matching")}
    fig["worker_lost_logged"] = "WorkerLostError" in text
    return fig


def run_drill(base: str, *, pensioners: int, evidence: int, chunk_size: int,
              scenarios: tuple[str, ...] = ("chunk", "after", "main"), template: str | None = None) -> dict:
    """The whole drill on databases named `base`, `base`_ctl, `base`_<scenario>; returns figures and `passed`."""
    prepare_matching_db(base, pensioners, evidence, template=template)
    names = {s: f"{base}_{s}" for s in ("ctl", *scenarios)}
    for n in names.values():
        recreate_db(n, template=base)
    try:
        log("control: an uninterrupted night through the worker")
        ctl = night(db_url(names["ctl"]), kill=None, chunk_size=chunk_size, tag="ctl")
        control = state(db_url(names["ctl"]))
        out: dict = {"control_night": ctl, "control": control, "scenarios": {}}
        ok = control["runs"] == {"done": 1} and control["dashboards_snapshot"] == 1
        for s in scenarios:
            log(f"scenario {s}")
            fig = night(db_url(names[s]), kill=s, chunk_size=chunk_size, tag=s)
            drilled = state(db_url(names[s]))
            killed_task = "certification.nightly_after_matching" if s == "after" else "bigdata.tasks.matching_chunk"
            expected = ctl["received"][killed_task] + 1  # the killed one, received again
            fig["equal_to_control"] = drilled == control
            fig["redelivered"] = fig["received"][killed_task] >= expected
            fig["passed"] = bool(fig.get("killed_while_running")) and fig["equal_to_control"] and fig["redelivered"]
            if not fig["equal_to_control"]:
                fig["drilled"] = drilled
            out["scenarios"][s] = fig
            ok = ok and fig["passed"]
        out["passed"] = ok
        return out
    finally:
        for n in names.values():
            drop_db(n)


def main() -> None:
    start_clean()
    chunk = max(1000, N // 5)
    out = run_drill("portal_h4_drill3", pensioners=N, evidence=EVIDENCE, chunk_size=chunk)
    result("drill3_worker_killed", out.pop("passed"), pensioners=N, evidence=EVIDENCE, chunk_size=chunk,
           visibility_timeout=VISIBILITY, **out)


if __name__ == "__main__":
    main()
