"""Celery tasks for evidence feeds and the scaled-out nightly matching. Thin: ids in, services called."""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import shared_task

from certification import rules

from .locks import AlreadyRunning, run_lock
from .matching import chunks_plan, matching_run, run_open


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def process_batch(batch_id: int) -> dict[str, Any] | None:
    """Import an uploaded feed (admin or partner API)."""
    from .services import batch_process

    result = batch_process(batch_id=batch_id)
    return result.as_json() if result else None


def matching_chunk_signatures(*, day: dt.date, chunk_size: int | None = None,
                              queue: str | None = None) -> tuple[int, list[Any]]:
    """Plan (or resume) the night's run: one matching_chunk signature per undone partition.

    A chunk is one partition of the evidence table (bigdata.partitions), so workers
    on many machines each take partitions. `chunk_size` is accepted and ignored (it
    was a pensioner count per chunk before the partitioning; callers still pass it),
    as is the old BIGDATA_SCALEOUT_CHUNK setting. Raises AlreadyRunning when a
    whole-table run holds the lock.
    """
    del chunk_size
    with run_lock():
        run = run_open(today=day)
        chunks = [c for c in chunks_plan(run) if c.done_at is None]
    options = {"queue": queue} if queue else {}
    return run.pk, [matching_chunk.si(run.pk, c.pk_lo, c.pk_hi, day.isoformat()).set(**options) for c in chunks]


@shared_task
def matching_nightly(today: str | None = None, chunk_size: int | None = None,
                     queue: str | None = None) -> dict[str, Any]:
    """Matching alone, scaled out: one task per partition's chunk.

    Workers on several machines take the chunks; each chunk commits on its own and
    the last one to finish closes the run. A run already in progress is resumed,
    not duplicated (its plan is reused and done chunks are skipped). Beat runs
    certification.run_nightly, which fans out the same chunks and then runs the
    rest of the night once they are all done.
    """
    day = dt.date.fromisoformat(today) if today else rules.today_local()
    try:
        run_id, signatures = matching_chunk_signatures(day=day, chunk_size=chunk_size, queue=queue)
    except AlreadyRunning:
        return {"skipped": "already running"}
    for sig in signatures:
        sig.apply_async()
    return {"run": run_id, "chunks": len(signatures)}


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def matching_chunk(run_id: int, pk_lo: int, pk_hi: int, today: str) -> dict[str, Any]:
    """One chunk (the bucket range [pk_lo, pk_hi), one partition) of a night's run.

    Redelivery is safe: a done chunk is skipped.
    """
    return matching_run(today=dt.date.fromisoformat(today), bucket_range=(pk_lo, pk_hi), run_id=run_id)
