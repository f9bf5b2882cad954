"""Locks for the nightly matching.

PostgreSQL: advisory locks, released by the server when the holder's connection
ends, so a killed run never leaves a stale lock. Elsewhere (the SQLite laptop
setup): an flock() on a file under var/, which the kernel releases on process
death for the same reason; SQLite lives on one machine, so a file lock covers
every process that can reach the database.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

# Arbitrary, fixed keys in the bigint advisory-lock space ("BIGDATA" in ASCII, then a suffix).
RUN_KEY = 0x42_49_47_44_41_54_41_01
EVIDENCE_WRITE_KEY = 0x42_49_47_44_41_54_41_02
CHUNK_KEY_BASE = 0x42_49_47_44_41_54_00_00


class AlreadyRunning(RuntimeError):
    pass


def _lock_file(name: str) -> Path:
    path = Path(getattr(settings, "BIGDATA_LOCK_DIR", settings.VAR_DIR)) / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def run_lock(*, shared: bool = False) -> Iterator[None]:
    """The whole-run lock: exclusive for a full run, shared for one chunk of a scaled-out run.

    Two full runs exclude each other; chunks of one run proceed side by side but
    exclude a full run. Fails at once with AlreadyRunning instead of waiting.
    """
    if connection.vendor == "postgresql":
        fn = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
        unlock = "pg_advisory_unlock_shared" if shared else "pg_advisory_unlock"
        with connection.cursor() as cur:
            cur.execute(f"SELECT {fn}(%s)", [RUN_KEY])
            if not cur.fetchone()[0]:
                raise AlreadyRunning("run_matching is already running")
        try:
            yield
        finally:
            with connection.cursor() as cur:
                cur.execute(f"SELECT {unlock}(%s)", [RUN_KEY])
        return
    with _flock("bigdata-matching", shared=shared):
        yield


@contextmanager
def chunk_lock(run_id: int, pk_lo: int) -> Iterator[None]:
    """One chunk is processed by one worker at a time (a redelivered task waits its turn)."""
    if connection.vendor == "postgresql":
        key = CHUNK_KEY_BASE + (run_id % 4096) * 1_000_003 + pk_lo % 1_000_003
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", [key])
        try:
            yield
        finally:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    with _flock(f"bigdata-chunk-{run_id}-{pk_lo}", shared=False, wait=True):
        yield


@contextmanager
def _flock(name: str, *, shared: bool, wait: bool = False) -> Iterator[None]:
    fh = _lock_file(name).open("a+")
    try:
        flags = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fh.fileno(), flags if wait else flags | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning("run_matching is already running") from None
        yield
    finally:
        fh.close()


def evidence_write_lock_shared(cur: Any) -> None:
    """Taken by an import just before it inserts evidence, until its transaction ends.

    A run fixes its evidence window under the exclusive form, so every evidence id
    at or below the window's top is committed (no sequence gap fills in later).
    """
    if connection.vendor == "postgresql":
        cur.execute("SELECT pg_advisory_xact_lock_shared(%s)", [EVIDENCE_WRITE_KEY])


def evidence_write_barrier(cur: Any) -> None:
    """Wait for in-flight imports to commit; call inside the transaction that reads max(id)."""
    if connection.vendor == "postgresql":
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [EVIDENCE_WRITE_KEY])
