"""Safety of run_matching: a concurrent run exits "already running"; a killed run, restarted,
ends in the same state as an uninterrupted one."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from bigdata import locks
from bigdata.matching import matching_run
from bigdata.models import Evidence, EvidenceSource, FraudAlert, MatchingChunk, MatchingRun
from certification.models import BackPay, Certification, Overpayment, Pensioner, StatusChange
from tests.factories import PensionerFactory

from .conftest import make_id

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 7, 10)


def _db_url() -> str:
    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    auth = f"{user}:{s['PASSWORD']}" if s.get("PASSWORD") else user
    return f"postgres://{auth}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def _manage(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    full_env = {**os.environ, "DATABASE_URL": _db_url(), **(env or {})}
    full_env.pop("REDIS_URL", None)
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_file_lock_refuses_a_second_holder(settings, tmp_path):
    settings.BIGDATA_LOCK_DIR = str(tmp_path)
    with locks._flock("bigdata-matching", shared=False):
        with pytest.raises(locks.AlreadyRunning, match="already running"):
            with locks._flock("bigdata-matching", shared=False):
                pass
    with locks._flock("bigdata-matching", shared=False):  # released on exit
        pass


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_second_run_while_one_holds_the_lock_exits_non_zero_saying_already_running(require_postgres):
    with locks.run_lock():
        proc = _manage("run_matching", "--today", TODAY.isoformat())
        out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "already running" in err
    assert not MatchingRun.objects.exists()


def _population() -> None:
    """Deterministic: 40 people, mixed states, evidence of every kind."""
    src = {s.code: s for s in EvidenceSource.objects.all()}
    for i in range(40):
        kind = i % 4
        vu = [dt.date(2026, 9, 30), dt.date(2026, 6, 1), dt.date(2026, 1, 31), dt.date(2027, 1, 1)][kind]
        status = ["active", "warning", "suspended", "active"][kind]
        p = PensionerFactory(id_number=make_id(100 + i), valid_until=vu, status=status,
                             suspended_since=dt.date(2026, 5, 1) if status == "suspended" else None,
                             monthly_amount=Decimal(2000 + i))
        rows = [("hospital", dt.date(2026, 6, 23) - dt.timedelta(days=i), f"H{i}")]
        if i % 5 == 0:
            rows.append(("death_civil", dt.date(2026, 3, 1) + dt.timedelta(days=i), f"D{i}"))
        if i % 10 == 0:
            rows.append(("transit", dt.date(2026, 7, 1), f"T{i}"))
        for code, day, ref in rows:
            Evidence.objects.create(source=src[code], source_ref=ref, id_number=p.id_number, event_date=day,
                                    pensioner=p)


def _snapshot() -> dict:  # type: ignore[type-arg]
    people = {}
    for p in Pensioner.objects.order_by("id_number"):
        people[p.id_number] = (
            p.status, p.valid_until, p.suspended_since, p.death_date,
            sorted((c.method, c.source, c.evidence_ref, c.occurred_on) for c in Certification.objects.filter(pensioner=p)),
            sorted((c.old_status, c.new_status, c.reason, c.effective_on) for c in StatusChange.objects.filter(pensioner=p)),
            sorted((b.suspended_since, b.total, tuple(ln.month for ln in b.lines.all())) for b in BackPay.objects.filter(pensioner=p)),
            sorted((o.months, o.total) for o in Overpayment.objects.filter(pensioner=p)),
            sorted((f.source, f.source_ref) for f in FraudAlert.objects.filter(pensioner=p)),
        )
    return people


def _wipe() -> None:
    for model in (FraudAlert, MatchingChunk, MatchingRun, Evidence, Certification, StatusChange, BackPay,
                  Overpayment, Pensioner):
        model.objects.all().delete()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_run_killed_mid_chunk_and_restarted_ends_in_the_same_state_as_an_uninterrupted_run(require_postgres):
    _population()
    # One chunk per evidence partition, each holding its transaction open for 1.5 s before commit.
    proc = _manage("run_matching", "--today", TODAY.isoformat(), env={"BIGDATA_CHUNK_PAUSE_SECONDS": "1.5"})
    deadline = time.monotonic() + 90
    while not MatchingChunk.objects.filter(done_at__isnull=False).exists():
        assert time.monotonic() < deadline, "the run never finished a chunk"
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.5)  # now inside the second chunk's open transaction
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    run = MatchingRun.objects.get()
    assert run.status == MatchingRun.Status.RUNNING
    done = MatchingChunk.objects.filter(done_at__isnull=False).count()
    assert 1 <= done < MatchingChunk.objects.count()

    resumed = _manage("run_matching", "--today", TODAY.isoformat())
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    killed_then_resumed = _snapshot()
    resumed_json = out.strip().splitlines()[-1]
    assert MatchingRun.objects.get().status == MatchingRun.Status.DONE

    _wipe()
    _population()
    whole = matching_run(today=TODAY)
    uninterrupted = _snapshot()

    assert killed_then_resumed == uninterrupted
    import json

    totals = json.loads(resumed_json)
    assert {k: v for k, v in totals.items() if k != "seconds"} == {k: v for k, v in whole.items() if k != "seconds"}
    assert whole["extended"] > 0 and whole["deceased"] > 0 and whole["fraud_alerts"] > 0 and whole["restored"] > 0
