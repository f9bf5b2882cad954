"""CI copy of drill 1: run_matching killed with SIGKILL in the middle of its chunk, rerun: the same
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
    assert figures["state_changed_by_killed_run"] is False  # one transaction: all or nothing
    assert figures["drilled"] == figures["control"]
    assert figures["control"]["certification_statuschange"] > 0  # the night had work to do
    assert figures["third_run_changes_nothing"] is True
    assert figures["passed"] is True
