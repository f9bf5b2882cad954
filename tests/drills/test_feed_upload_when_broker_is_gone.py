"""An uploaded feed whose processing task cannot be queued (broker gone) is marked failed with a reason,
so the admin's "重新排队导入" action can queue it again, instead of staying pending for ever."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from kombu.exceptions import OperationalError

from bigdata.models import EvidenceBatch
from bigdata.services import feed_upload, source_get
from bigdata.tasks import process_batch

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_feed_uploaded_while_the_broker_is_gone_is_failed_with_a_reason(settings, tmp_path, monkeypatch):
    from config.celery import app

    settings.MEDIA_ROOT = str(tmp_path)

    def gone(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("Timeout reading from socket")

    monkeypatch.setattr(process_batch, "apply_async", gone)
    upload = SimpleUploadedFile("feed.csv", b"id_number,event_date,source_ref\n", content_type="text/csv")
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False  # the production path: a broker, not inline tasks
    try:
        batch = feed_upload(source=source_get("hospital"), upload=upload)
    finally:
        app.conf.task_always_eager = eager

    batch.refresh_from_db()
    assert batch.status == EvidenceBatch.Status.FAILED
    assert "重新排队导入" in batch.failure
