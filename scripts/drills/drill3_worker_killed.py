"""Drill 3: kill -9 a Celery worker mid-task; with acks_late the task is redelivered and idempotent.

The task is the nightly job (`certification.run_nightly`, acks_late) on 200,000
pensioners, run for a day when ~35,000 of them change status. A PRIVATE
redis-server (port 6385) is the broker. While the task runs, the pool process
executing it is killed with SIGKILL; task_reject_on_worker_lost + acks_late put
the message back and the worker runs it again. The result is compared with an
uninterrupted run on a copy of the same database (CREATE DATABASE … TEMPLATE):
same pensioner checksum, same number of status-change, back-pay and outbox rows.

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
    BIN,
    PY,
    ROOT,
    WORK,
    db_url,
    drop_db,
    env_for,
    log,
    manage,
    pensioner_checksum,
    populate,
    recreate_db,
    result,
    start,
    stop,
    table_counts,
)

N = int(os.environ.get("DRILL3_PENSIONERS", "200000"))
DAY = "2027-01-15"
REDIS_PORT = 6385
BROKER = f"redis://127.0.0.1:{REDIS_PORT}/0"
TABLES = ["certification_statuschange", "certification_backpay", "certification_backpayline",
          "notifications_message", "dashboards_figure"]


def main() -> None:
    base, ctl = "portal_admin_drill3", "portal_admin_drill3_ctl"
    recreate_db(base)
    log(f"populate {N} pensioners")
    populate(db_url(base), N)
    recreate_db(ctl, template=base)

    log("control: uninterrupted run_nightly")
    t0 = time.monotonic()
    manage(db_url(ctl), "run_nightly", "--today", DAY, REDIS_URL="", CELERY_TASK_ALWAYS_EAGER="1")
    control_seconds = time.monotonic() - t0
    control = {"checksum": pensioner_checksum(db_url(ctl)), **table_counts(db_url(ctl), TABLES)}

    subprocess.run(["redis-server", "--port", str(REDIS_PORT), "--save", "", "--appendonly", "no", "--daemonize", "yes",
                    "--pidfile", str(WORK / "redis6385.pid")], check=True)
    wlog = WORK / "drill3-worker.log"
    wlog.write_text("")
    env = env_for(db_url(base), REDIS_URL=BROKER, CELERY_BROKER_URL=BROKER, CELERY_RESULT_BACKEND=BROKER,
                  CELERY_TASK_ALWAYS_EAGER="0")
    worker = start([str(BIN / "celery"), "-A", "config", "worker", "-Q", "default", "-n", "drill3@%h",
                    "--concurrency", "1", "--loglevel", "INFO"], wlog, env)
    try:
        for _ in range(60):
            if "ready." in wlog.read_text():
                break
            time.sleep(0.5)
        log("send certification.run_nightly")
        subprocess.run([PY, "-c", "import django; django.setup()\nfrom certification.tasks import run_nightly_task\n"
                        f"run_nightly_task.delay({DAY!r})"], cwd=ROOT, env=env, check=True)
        while "certification.run_nightly" not in wlog.read_text():
            time.sleep(0.1)
        time.sleep(max(1.0, control_seconds * 0.4))
        children = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout.split()
        # The celery main process is the Popen child (start_new_session); its pool process runs the task.
        main_pid = worker.pid
        pool = subprocess.run(["pgrep", "-P", str(main_pid)], capture_output=True, text=True).stdout.split()
        victim = int(pool[0]) if pool else int(children[0])
        log(f"kill -9 pool process {victim} mid-task")
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        deadline = killed_at + max(300, control_seconds * 10)
        while time.monotonic() < deadline:
            text = wlog.read_text()
            if re.search(r"Task certification\.run_nightly\[[^\]]+\] succeeded", text):
                break
            time.sleep(0.5)
        text = wlog.read_text()
        drilled = {"checksum": pensioner_checksum(db_url(base)), **table_counts(db_url(base), TABLES)}
        received = len(re.findall(r"Task certification\.run_nightly\[[^\]]+\] received", text))
        lost = "WorkerLostError" in text or "SIGKILL" in text
        succeeded = bool(re.search(r"Task certification\.run_nightly\[[^\]]+\] succeeded", text))
        # The killed attempt may have committed some steps before the kill: the rerun must not double them.
        passed = succeeded and lost and received >= 2 and drilled == control
        result("drill3_worker_killed", passed, pensioners=N, control_seconds=round(control_seconds, 1),
               redelivered_after_seconds=round(time.monotonic() - killed_at, 1), received=received,
               worker_lost_logged=lost, control=control, drilled=drilled)
    finally:
        stop(worker)
        subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"], capture_output=True)
        drop_db(ctl)


if __name__ == "__main__":
    main()
