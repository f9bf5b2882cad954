"""CI copy of drill 4: Redis (a private redis-server) shut down without saving while real workers send
the night's reminders, then started empty: every outbox row sent, one SMS each, none twice."""

from __future__ import annotations

import pytest

from .conftest import CI_PENSIONERS, free_port

pytestmark = [pytest.mark.services, pytest.mark.slow]


def test_reminders_sent_through_a_redis_outage_are_all_sent_once(drills, scratch_db, drill_templates, tmp_path,
                                                                  monkeypatch):
    import drill4_redis_outage as drill

    monkeypatch.setattr(drill, "PORT", free_port())
    monkeypatch.setattr(drill, "OUTAGE_SECONDS", 3.0)
    name = scratch_db("drill4")
    drills.recreate_db(name, template=drill_templates["pop"])
    url = drills.db_url(name)
    figures = drill.run_drill(url, sms=tmp_path / "sms.jsonl", pensioners=CI_PENSIONERS)

    assert figures["outbox_rows"] > 100
    assert 0 < figures["sent_before_outage"] < figures["outbox_rows"]  # the outage hit mid-sending
    assert figures["final_statuses"] == {"sent": figures["outbox_rows"]}
    assert figures["sms_lines"] == figures["outbox_rows"]
    assert figures["duplicate_sms"] == 0
    assert figures["passed"] is True
