"""CI copy of drill 1: run_matching killed with SIGKILL in the middle of a chunk, rerun: the same
result as an uninterrupted run on a copy, and a third run changes nothing."""

from __future__ import annotations

import pytest

from .conftest import CI_PENSIONERS

pytestmark = [pytest.mark.services, pytest.mark.slow]


def test_a_matching_run_killed_midway_and_rerun_equals_an_uninterrupted_run(drills, scratch_db, drill_templates):
    import drill1_matching_killed as drill

    base = scratch_db("drill1")
    scratch_db("drill1_ctl")
    # The chunk holds its transaction open 1 s more, so the kill lands inside it.
    figures = drill.run_drill(base, pensioners=CI_PENSIONERS, evidence=CI_PENSIONERS * 3 // 2,
                              extra_env={"BIGDATA_CHUNK_PAUSE_SECONDS": "1"}, template=drill_templates["match"])

    assert figures["killed_while_running"] is True
    # A run is one chunk per evidence partition, each its own transaction (issue 14): the
    # killed run keeps the chunks it committed and the one it was inside rolls back; the
    # rerun resumes the rest and reports the whole run's totals, the control's.
    assert figures["drilled"] == figures["control"]
    totals = ("extended", "entered_warning", "suspended", "restored", "deceased", "fraud_alerts")
    assert {k: figures["rerun"][k] for k in totals} == {k: figures["control_run"][k] for k in totals}
    assert figures["control"]["certification_statuschange"] > 0  # the night had work to do
    assert figures["third_run_changes_nothing"] is True
    assert figures["passed"] is True
