"""Drill 4: stop Redis during reminder sending, restart it: nothing lost, nothing doubled.

A PRIVATE redis-server on port 8140 is the broker (the shared Redis is never
stopped). 30,000 pensioners; the nightly job for a day when ~5,000 enter warning or
are suspended writes that many outbox rows and kicks a send task for each. Two
Celery workers send them through the file SMS transport while the drill plays
beat (a drain task every 2 s). Once sending is under way Redis is shut down
WITHOUT saving (every queued task is lost), kept down 8 s, and started empty.

Pass: every outbox row ends `sent`, the SMS file has exactly one line per row
(no (phone, text) pair twice), and the count equals the rows the nightly wrote.

    .venv/bin/python scripts/drills/drill4_redis_outage.py
"""
# ruff: noqa: S603, S607, S608, S311 - an ops script: fixed commands, our own table names, test data

from __future__ import annotations

import json
import os
import time
from collections import Counter

from common import (
    BIN,
    PORT_REDIS,
    PY,
    WORK,
    WORKER_READY_SECONDS,
    db_url,
    env_for,
    log,
    manage,
    populate,
    query,
    recreate_db,
    redis_start,
    redis_stop,
    result,
    start,
    start_clean,
    stop,
    wait_for,
)

N = int(os.environ.get("DRILL4_PENSIONERS", "30000"))
DAY = "2027-01-15"
PORT = PORT_REDIS
OUTAGE_SECONDS = 8.0  # how long Redis stays down (the CI copy: 3 s, still several drain periods)


BEAT = """
import time, django
django.setup()
from notifications.tasks import outbox_drain_task
for _ in range(600):  # bounded: 20 minutes at most, the drill stops it long before
    try:
        outbox_drain_task.apply_async(retry=False)
        print("drain sent", flush=True)
    except Exception as exc:
        print("drain publish failed:", type(exc).__name__, flush=True)
    time.sleep(2)
"""


def redis_up() -> None:
    redis_start(PORT)


def redis_down() -> None:
    redis_stop(PORT)


def statuses(url: str) -> dict[str, int]:
    return dict(query(url, "SELECT status, count(*) FROM notifications_message GROUP BY 1"))


def run_drill(url: str, *, sms, pensioners: int) -> dict:  # type: ignore[no-untyped-def]
    """The drill on a populated database; returns its figures and `passed`. Used by the CI copy too."""
    broker = f"redis://127.0.0.1:{PORT}/0"
    sms.unlink(missing_ok=True)
    env = env_for(url, REDIS_URL=broker, CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND="cache+memory://",
                  CELERY_TASK_ALWAYS_EAGER="0", SMS_FILE_PATH=str(sms), SMS_QUIET_START_HOUR="0",
                  SMS_QUIET_END_HOUR="0")
    redis_up()
    wlog = WORK / "drill4-workers.log"
    wlog.write_text("")
    workers = [start([str(BIN / "celery"), "-A", "config", "worker", "-Q", "default", "-n", f"drill4-{i}@%h",
                      "--concurrency", "1", "--loglevel", "INFO"], wlog, env) for i in (1, 2)]
    beat_stop = time.monotonic() + 600
    outage: dict[str, float] = {}
    try:
        # Both workers ready (bounded), instead of a fixed sleep.
        wait_for(lambda: wlog.read_text(errors="replace").count("ready.") >= 2, timeout=WORKER_READY_SECONDS,
                 every=0.2, what="two drill-4 workers ready")
        log("nightly: writes the reminder rows and kicks a send task for each")
        nightly = manage(url, "run_nightly", "--today", DAY, **{k: env[k] for k in (
            "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_TASK_ALWAYS_EAGER", "SMS_FILE_PATH",
            "SMS_QUIET_START_HOUR", "SMS_QUIET_END_HOUR")})
        expected = sum(statuses(url).values())
        # Beat: a drain task every 2 s for the whole drill (production: every minute). While
        # Redis is down the publish fails fast and is logged; nothing is lost, the rows wait.
        beat = start([PY, "-c", BEAT], WORK / "drill4-beat.log", env)
        log(f"{expected} outbox rows; waiting for sending to get under way")
        under_way = time.monotonic() + 300
        while (not sms.exists() or sum(1 for _ in sms.open()) < expected // 10) and time.monotonic() < under_way:
            time.sleep(0.2)
        sent_before = sum(1 for _ in sms.open())
        log(f"{sent_before} sent: SHUTDOWN NOSAVE on the private Redis")
        outage["down"] = time.monotonic()
        redis_down()
        time.sleep(OUTAGE_SECONDS)
        redis_up()
        outage["up"] = time.monotonic()
        log("Redis back (empty)")
        while time.monotonic() < beat_stop:
            s = statuses(url)
            if not any(s.get(k, 0) for k in ("queued", "failed", "sending")):
                break
            time.sleep(1)
        stop(beat)
        time.sleep(1)  # a send writes its SMS line before its row is `sent`: nothing is in flight now
        final = statuses(url)
        lines = [json.loads(x) for x in sms.read_text(encoding="utf-8").splitlines() if x.strip()]
        dupes = sum(n - 1 for n in Counter((x["phone"], x["text"]) for x in lines).values() if n > 1)
        passed = final.get("sent", 0) == expected and len(lines) == expected and dupes == 0
        return {"passed": passed, "pensioners": pensioners, "outbox_rows": expected, "sent_before_outage": sent_before,
                "outage_seconds": round(outage["up"] - outage["down"], 1), "final_statuses": final,
                "sms_lines": len(lines), "duplicate_sms": dupes,
                "recovered_seconds": round(time.monotonic() - outage["up"], 1), "reminders": nightly.get("reminders")}
    finally:
        for w in workers:
            stop(w)
        redis_down()


def main() -> None:
    start_clean()
    name = "portal_h4_drill4"
    url = db_url(name)
    recreate_db(name)
    log(f"populate {N}")
    populate(url, N)
    figures = run_drill(url, sms=WORK / "sms4.jsonl", pensioners=N)
    result("drill4_redis_outage", figures.pop("passed"), **figures)


if __name__ == "__main__":
    main()
