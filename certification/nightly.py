"""The nightly pipeline. Each step is a set-based, idempotent function of `today`.

Order matters (DESIGN §4): matching extends validity from the night's evidence
before the transitions look at it; reminders are scheduled from the status-change
rows the transitions wrote; the dashboard snapshot reads the settled state.
Each app adds its step here, in order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from .services import transitions_run


def nightly_run(*, today: dt.date) -> dict[str, Any]:
    """The whole night in one process (`manage.py run_nightly`, the demo, eager Celery)."""
    # 1. Big-data matching (bigdata app) — it runs the transitions itself as its last step.
    #    A concurrent run raises bigdata.locks.AlreadyRunning: the night fails loudly.
    from bigdata.matching import matching_run

    matching = matching_run(today=today)
    return {"today": today.isoformat(), "matching": matching, **nightly_after_matching(today=today)}


def nightly_after_matching(*, today: dt.date) -> dict[str, Any]:
    """Steps 2–5. On beat, these run once all of the night's matching chunks are done
    (certification.tasks.run_nightly_task fans the matching out over workers)."""
    result: dict[str, Any] = {}
    # 2. Status transitions.
    result["transitions"] = asdict(transitions_run(today=today))
    # 3. Reminder scheduling (notifications app): outbox rows from the status-change rows above.
    from notifications.scheduling import schedule_due

    result["reminders"] = schedule_due(today=today)
    # 4. Dashboard snapshot (dashboards app).
    from certification.dashboards.services import snapshot_build

    result["dashboard"] = snapshot_build(today=today)
    # 5. Face frames kept for FACE_FRAME_RETENTION_DAYS are deleted when due (faces app, issue 6);
    #    with the default retention 0 they were deleted at each decision and this finds nothing.
    from certification.faces.services import frames_purge

    result["face_frames_purged"] = frames_purge()
    return result
