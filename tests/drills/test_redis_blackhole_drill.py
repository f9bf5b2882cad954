"""CI copy of drill 10: with Redis gone (a listener that accepts and never answers) and with Redis
refusing connections, the staff SMS page and the face-attempt upload answer within their own time
(with Redis up) + 2 s, and their work waits in the outbox until a real worker on a real Redis sends it."""

from __future__ import annotations

import pytest

from .conftest import free_port

pytestmark = [pytest.mark.services, pytest.mark.slow]


def test_pages_that_enqueue_answer_within_two_seconds_more_and_the_work_is_done_once_redis_is_back(
        drills, scratch_db, drill_templates, tmp_path, monkeypatch):
    import drill10_redis_blackhole as drill

    monkeypatch.setattr(drill, "HOLE", free_port())
    monkeypatch.setattr(drill, "REDIS_PORT", free_port())
    name = scratch_db("drill10")
    drills.recreate_db(name, template=drill_templates["pop"])
    url = drills.db_url(name)
    figures = drill.run_drill(url, media=str(tmp_path / "media"), sms=str(tmp_path / "sms.jsonl"))

    pages = figures["pages"]
    assert [x["status"] for x in pages["sms"]] == [302, 302, 302]  # saved, back to the record: no 500
    assert [(x["page"], x["status"]) for x in pages["face"]] == [
        ("session", 201), ("frames", 202), ("frames", 202), ("frames+done", 200)]
    assert pages["face"][-1]["body_status"] == "pending"
    assert [x["status"] for x in figures["refused"]["sms"]] == [302, 302, 302]
    assert figures["refused"]["face"][-1]["body_status"] == "pending"
    # Redis gone costs each page at most its socket timeouts (3 x 0.5 s), Redis refusing one
    # refused connection per publish (no 2 s retry), over the same page with Redis up:
    # measured against the same run's floor, not the clock.
    assert figures["max_added_seconds"] <= 2.0, figures["added_seconds"]
    assert figures["max_added_seconds_refused"] <= 2.0, figures["added_seconds_refused"]
    assert pages["sms_rows"] == {"queued": 9}  # up, refused and gone runs: all waiting in the outbox
    assert pages["face_attempts"] == {"pending": 3}
    assert figures["after"]["sms_rows"] == {"sent": 9}  # sent once Redis answers again
    assert figures["after"]["sms_lines"] == 9
    assert [a[0] for a in figures["after"]["face_attempts"]] == ["done", "done", "done"]
    assert figures["passed"] is True
