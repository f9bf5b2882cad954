"""Thin Celery tasks: ids in, a service call, nothing else. Routed to the `face` queue by settings."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="certification.faces.tasks.face_attempt_verify", acks_late=True)
def face_attempt_verify(attempt_id: int) -> str:
    """The face check for one attempt. Idempotent: a redelivered task finds the attempt claimed."""
    attempt = services.attempt_decide(attempt_id=attempt_id)
    return attempt.reason or "passed"


@shared_task(name="certification.faces.tasks.face_chunk_analyse", ignore_result=True)
def face_chunk_analyse(attempt_id: int, first: int, count: int) -> int:
    """One chunk of frames analysed as it arrives (the slow per-frame part of the check)."""
    return services.chunk_analyse(attempt_id=attempt_id, first=first, count=count)


@shared_task(name="certification.faces.tasks.bulk_enrolment_task", acks_late=True)
def bulk_enrolment_task(run_id: int) -> dict[str, int]:
    run = services.bulk_enrolment_run(run_id=run_id)
    return {"total": run.total, "enrolled": run.enrolled, "skipped": run.skipped, "errors": len(run.errors)}


@shared_task(name="certification.faces.tasks.attempts_redispatch_task", ignore_result=True)
def attempts_redispatch_task() -> int:
    """Beat, every minute: attempts whose check was never delivered (broker down at upload)."""
    return services.attempts_redispatch()


@shared_task(name="certification.faces.tasks.frames_purge_task", ignore_result=True)
def frames_purge_task() -> int:
    """Beat, every 10 minutes: one bounded batch of the PIPL purge; requeues itself while batches
    come back full, so a backlog of any size is cleared without one unbounded run. A cache lock
    keeps a beat tick from starting a second chain beside a running one."""
    from django.core.cache import cache

    if not cache.add("faces:purge-lock", 1, timeout=300):
        return 0
    try:
        done, full = services.frames_purge_batch()
    finally:
        cache.delete("faces:purge-lock")
    if full:
        frames_purge_task.apply_async(countdown=1)
    return done
