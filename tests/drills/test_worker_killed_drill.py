"""CI copy of drill 3: the nightly chord survives its worker processes being killed: the pool process
during a matching chunk, during nightly_after_matching, and the worker's main process (short
visibility timeout). Each night completes (its snapshot, built after the kill) equal to a control."""

from __future__ import annotations

import pytest

from .conftest import CI_PENSIONERS, free_port

pytestmark = [pytest.mark.services, pytest.mark.slow]


def test_killed_pool_and_main_processes_leave_the_night_complete_and_equal_to_the_control(
        drills, scratch_db, drill_templates, monkeypatch):
    import drill3_worker_killed as drill

    monkeypatch.setattr(drill, "REDIS_PORT", free_port())
    monkeypatch.setattr(drill, "QUEUE", f"drill3-{free_port()}")
    monkeypatch.setattr(drill, "VISIBILITY", 10)
    monkeypatch.setattr(drill, "RESTORE_EVERY", 1)  # kombu's restore sweep every 1 s, not up to ~100 s
    base = scratch_db("drill3")
    for s in ("ctl", "chunk", "after", "main"):
        scratch_db(f"drill3_{s}")
    figures = drill.run_drill(base, pensioners=CI_PENSIONERS, evidence=CI_PENSIONERS * 3 // 2,
                              chunk_size=CI_PENSIONERS // 5, template=drill_templates["match"])

    assert figures["control"]["runs"] == {"done": 1} and figures["control"]["dashboards_snapshot"] == 1
    assert figures["control"]["outbox_dedup_keys_doubled"] == 0
    for name, s in figures["scenarios"].items():
        assert s["killed_while_running"] is True, name
        assert s["equal_to_control"] is True, (name, s.get("drilled"), figures["control"])
        assert s["redelivered"] is True, (name, s["received"])
    assert figures["scenarios"]["chunk"]["worker_lost_logged"] is True
    assert figures["scenarios"]["after"]["received"]["certification.nightly_after_matching"] == 2
    assert figures["passed"] is True
