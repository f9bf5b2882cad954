"""Celery tasks for evidence feeds and the scaled-out nightly matching. Thin: ids in, services called."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from celery import shared_task

from certification import rules

from .locks import AlreadyRunning, run_lock
from .matching import chunks_plan, matching_run, run_open

# Pensioner ids per chunk when the night is shared between workers: ~100k people and
# their evidence is a transaction of a few seconds (docs/performance.md).
DEFAULT_SCALEOUT_CHUNK = 100_000


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def process_batch(batch_id: int) -> dict[str, Any] | None:
    """Import an uploaded feed (admin or partner API)."""
    from .services import batch_process

    result = batch_process(batch_id=batch_id)
    return result.as_json() if result else None


@shared_task
def matching_nightly(today: str | None = None, chunk_size: int | None = None,
                     queue: str | None = None) -> dict[str, Any]:
    """The beat entry point for a scaled-out night: plan pensioner-id chunks, one task each.

    Workers on several machines take the chunks; each chunk commits on its own and
    the last one to finish closes the run. A run already in progress is resumed,
    not duplicated (its plan is reused and done chunks are skipped).
    """
    day = dt.date.fromisoformat(today) if today else rules.today_local()
    size = chunk_size or int(os.environ.get("BIGDATA_SCALEOUT_CHUNK") or DEFAULT_SCALEOUT_CHUNK)
    try:
        with run_lock():
            run = run_open(today=day)
            chunks = [c for c in chunks_plan(run, size=size) if c.done_at is None]
    except AlreadyRunning:
        return {"skipped": "already running"}
    for c in chunks:
        options = {"queue": queue} if queue else {}
        matching_chunk.apply_async(args=[run.pk, c.pk_lo, c.pk_hi, day.isoformat()], **options)
    return {"run": run.pk, "chunks": len(chunks)}


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def matching_chunk(run_id: int, pk_lo: int, pk_hi: int, today: str) -> dict[str, Any]:
    """One pensioner-id range of a night's run. Redelivery is safe: a done chunk is skipped."""
    return matching_run(today=dt.date.fromisoformat(today), pk_range=(pk_lo, pk_hi), run_id=run_id)
