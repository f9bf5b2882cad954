"""CI copy of drill 10: with Redis gone (a listener that accepts and never answers), the
staff SMS page and the face-attempt upload answer within their own time + 2 s, and their work waits in
the outbox until a real worker on a real Redis sends it."""

from __future__ import annotations

import pytest

from .conftest import free_port

pytestmark = [pytest.mark.services, pytest.mark.slow]


def test_pages_that_enqueue_answer_within_two_seconds_more_and_the_work_is_done_once_redis_is_back(
        drills, scratch_db, tmp_path, monkeypatch):
    import drill10_redis_blackhole as drill

    monkeypatch.setattr(drill, "HOLE", free_port())
    monkeypatch.setattr(drill, "REDIS_PORT", free_port())
    name = scratch_db("drill10")
    drills.recreate_db(name)
    url = drills.db_url(name)
    drills.populate(url, 1000)
    figures = drill.run_drill(url, media=str(tmp_path / "media"), sms=str(tmp_path / "sms.jsonl"))

    pages = figures["pages"]
    assert [x["status"] for x in pages["sms"]] == [302, 302, 302]  # saved, back to the record: no 500
    assert [(x["page"], x["status"]) for x in pages["face"]] == [
        ("session", 201), ("frames", 202), ("frames", 202), ("frames+done", 200)]
    assert pages["face"][-1]["body_status"] == "pending"
    # Redis gone costs each page at most its socket timeouts (3 x 0.5 s) over the same page
    # with a Redis that refuses at once: measured against the same run's floor, not the clock.
    assert figures["max_added_seconds"] <= 2.0, figures["added_seconds"]
    assert pages["sms_rows"] == {"queued": 6}  # floor and dead runs: all waiting in the outbox
    assert pages["face_attempts"] == {"pending": 2}
    assert figures["after"]["sms_rows"] == {"sent": 6}  # sent once Redis answers again
    assert figures["after"]["sms_lines"] == 6
    assert [a[0] for a in figures["after"]["face_attempts"]] == ["done", "done"]
    assert figures["passed"] is True
