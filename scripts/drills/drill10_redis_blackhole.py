"""Drill 10: Redis unreachable rather than refusing; pages that enqueue answer within their own time + 2 s.

A dead Redis host does not refuse connections: packets go nowhere, or a proxy
accepts and never answers. A loopback listener that accepts every connection and
never replies stands in for it (127.0.0.1:8141). The web process (Django, real
views and middleware, scripts/drills/outage_pages.py) has REDIS_URL pointing at it
(broker, cache) and calls the pages that enqueue a task: a staff SMS (3 times) and
a face certification (session, frame chunks, the last with done=1). The same pages
are first timed with Redis up (a private redis-server, no worker): that is the floor,
what they cost on this machine now; then with a Redis that refuses at once (a closed
port), then with the listener. Pass: every page answers (no 500), Redis refusing and
Redis gone each add at most ADDED_BOUND = 2 s to any of them (gone: its socket
timeouts, a throttle read and at most two publishes, 0.5 s each; refusing: one
connection attempt per publish, no retry: config/celery.py), none takes HANG = 10 s,
and the work waits: the SMS rows `queued` in the outbox, the face attempts `pending`
with their frames stored.

Then Redis "comes back": a private redis-server (8140) and a real worker on the
`default` and `face` queues, and the drill plays beat once (outbox drain, face
redispatch). Pass: every SMS row `sent` exactly once (one line each in the SMS file)
and the face attempts decided.

    .venv/bin/python scripts/drills/drill10_redis_blackhole.py
"""
# ruff: noqa: S603, S607, S608 - an ops script: fixed commands, our own table names

from __future__ import annotations

import json
import os
import subprocess

from common import (
    PORT_HOLE,
    PORT_REDIS,
    PY,
    ROOT,
    WORK,
    blackhole_start,
    db_url,
    env_for,
    log,
    populate,
    query,
    recreate_db,
    redis_start,
    redis_stop,
    result,
    start_clean,
    stop,
    wait_for,
    worker_start,
)

N = int(os.environ.get("DRILL10_PENSIONERS", "3000"))
HOLE = PORT_HOLE
REDIS_PORT = PORT_REDIS
PAGES = str(ROOT / "scripts" / "drills" / "outage_pages.py")
REFUSING = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once
# What Redis being gone may add to a page that enqueues: its socket timeouts (a throttle
# read, at most two publishes: 3 x 0.5 s) plus scheduling noise. A page that takes longer
# than HANG is hanging.
ADDED_BOUND = 2.0
HANG = 10.0


def run_drill(url: str, *, media: str, sms: str) -> dict:
    """The drill on an already populated database; returns the figures and `passed`. Used by the CI copy too."""
    base = {"MEDIA_ROOT": media, "SMS_FILE_PATH": sms, "SMS_QUIET_START_HOUR": "0", "SMS_QUIET_END_HOUR": "0"}
    setup = subprocess.run([PY, PAGES, "setup"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                           env=env_for(url, REDIS_URL="", CELERY_BROKER_URL="memory://",
                                       CELERY_RESULT_BACKEND="cache+memory://", **base))
    if setup.returncode != 0:
        raise RuntimeError(setup.stderr[-3000:])
    ids = json.loads(setup.stdout.strip().splitlines()[-1])
    def pages_with(redis_url: str) -> dict:
        proc = subprocess.run([PY, PAGES, "pages", json.dumps(ids)], cwd=ROOT, capture_output=True, text=True,
                              timeout=180, env=env_for(url, REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url,
                                                       CELERY_RESULT_BACKEND=redis_url, CELERY_TASK_ALWAYS_EAGER="0",
                                                       **base))
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-3000:])
        return json.loads(proc.stdout.strip().splitlines()[-1])

    # The floor: the same pages with Redis up (a private redis-server, no worker yet): their
    # own work (image checks, the database, the publishes) on this machine right now. The
    # tasks they publish are dropped with that server (shut down without saving): their
    # rows stay queued / pending, as in the two outage cases.
    log("pages with Redis up (the floor)")
    up = f"redis://127.0.0.1:{REDIS_PORT}/0"
    redis_start(REDIS_PORT)
    try:
        floor = pages_with(up)
    finally:
        redis_stop(REDIS_PORT)
    log("pages with Redis refusing (a closed port)")
    refused = pages_with(REFUSING)
    hole = blackhole_start(HOLE, lifetime=300)
    dead = f"redis://127.0.0.1:{HOLE}/0"
    try:
        log(f"pages with Redis at {dead} (accepts, never answers)")
        pages = pages_with(dead)
    finally:
        stop(hole)
    runs = (floor, refused, pages)
    answered = all(x["status"] in (200, 201, 202, 302) for r in runs for x in r["sms"] + r["face"])

    def added_to_floor(r: dict) -> list[float]:
        return [round(d["seconds"] - f["seconds"], 3) for d, f in zip(r["sms"] + r["face"],
                                                                     floor["sms"] + floor["face"], strict=True)]
    added, added_refused = added_to_floor(pages), added_to_floor(refused)
    within = (max(added) <= ADDED_BOUND and max(added_refused) <= ADDED_BOUND
              and max(pages["max_seconds"], refused["max_seconds"]) < HANG)
    sms_total, faces = sum(len(r["sms"]) for r in runs), len(runs)
    waiting = (pages["sms_rows"] == {"queued": sms_total} and pages["face_attempts"].get("pending", 0) == faces
               and all(r["face"][-1]["page"] == "frames+done" for r in runs))

    log("Redis back: private redis-server, a real worker, one beat tick")
    broker = f"redis://127.0.0.1:{REDIS_PORT}/0"
    redis_start(REDIS_PORT)
    env = env_for(url, REDIS_URL=broker, CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=broker,
                  CELERY_TASK_ALWAYS_EAGER="0", **base)
    worker = None
    try:
        worker = worker_start(env, WORK / "drill10-worker.log", queues="default,face", name="drill10")
        # Beat's tick: the drain, and the face redispatch (60 s age in production; "now + 61 s" here).
        tick = ("import datetime as dt, django; django.setup()\n"
                "from django.utils import timezone\n"
                "from notifications.tasks import outbox_drain_task\n"
                "from certification.faces import services\n"
                "outbox_drain_task.delay()\n"
                "print(services.attempts_redispatch(now=timezone.now() + dt.timedelta(seconds=61)))\n")
        redispatched = int(subprocess.run([PY, "-c", tick], cwd=ROOT, env=env, capture_output=True, text=True,
                                          check=True, timeout=120).stdout.strip().splitlines()[-1])

        def settled() -> bool:
            sent = query(url, "SELECT count(*) FROM notifications_message WHERE template = 'staff_message' "
                              "AND status = 'sent'")[0][0]
            pending = query(url, "SELECT count(*) FROM faces_faceattempt WHERE state IN ('pending', 'running')")[0][0]
            return sent == sms_total and pending == 0
        try:
            wait_for(settled, timeout=180, what="outbox sent and face attempt decided")
        except TimeoutError:
            pass
    finally:
        if worker:
            stop(worker)
        redis_stop(REDIS_PORT)
    rows = dict(query(url, "SELECT status, count(*) FROM notifications_message WHERE template = 'staff_message' "
                           "GROUP BY 1"))
    attempts = query(url, "SELECT state, passed, reason FROM faces_faceattempt")
    lines = [json.loads(x) for x in open(sms, encoding="utf-8").read().splitlines() if x.strip()] \
        if os.path.exists(sms) else []
    staff_lines = [x for x in lines if "演练短信" in x.get("text", "")]
    delivered = (rows == {"sent": sms_total} and len(staff_lines) == sms_total
                 and len({(x["phone"], x["text"]) for x in staff_lines}) == len(pages["sms"])  # same texts, each run
                 and len(attempts) == faces and all(a[0] == "done" for a in attempts))
    return {"passed": answered and within and waiting and delivered, "added_bound_seconds": ADDED_BOUND,
            "pages_answered": answered, "within_bound": within, "added_seconds": added,
            "max_added_seconds": max(added), "added_seconds_refused": added_refused,
            "max_added_seconds_refused": max(added_refused), "max_seconds_redis_gone": pages["max_seconds"],
            "max_seconds_refused": refused["max_seconds"], "max_seconds_floor": floor["max_seconds"],
            "work_waited": waiting, "delivered_after": delivered,
            "pages": pages, "refused": refused, "floor": floor, "redispatched": redispatched,
            "after": {"sms_rows": rows, "sms_lines": len(staff_lines), "face_attempts": attempts}}


def main() -> None:
    start_clean()
    name = "portal_h4_drill10"
    url = db_url(name)
    recreate_db(name)
    log(f"populate {N}")
    populate(url, N)
    sms = WORK / "sms10.jsonl"
    sms.unlink(missing_ok=True)
    figures = run_drill(url, media=str(WORK / "media10"), sms=str(sms))
    result("drill10_redis_blackhole", figures.pop("passed"), pensioners=N, **figures)


if __name__ == "__main__":
    main()
