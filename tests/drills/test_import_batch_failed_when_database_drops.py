"""An import whose database connection drops mid-way marks its batch failed instead of leaving it
"processing" for ever (drill 9's finding); nothing of the file lands, and a rerun imports it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import OperationalError

from bigdata import pgimport
from bigdata import services as bigdata_services
from bigdata.models import Evidence, EvidenceBatch
from bigdata.services import evidence_import, source_get
from tests.factories import PensionerFactory

pytestmark = pytest.mark.django_db(transaction=True)
TODAY = dt.date(2026, 11, 30)


def _feed(tmp_path, people):  # type: ignore[no-untyped-def]
    path = tmp_path / "hospital.csv"
    path.write_text("id_number,event_date,source_ref\n"
                    + "".join(f"{p.id_number},2026-11-02,D9-{i}\n" for i, p in enumerate(people)), encoding="utf-8")
    return path


def test_a_database_error_mid_import_marks_the_batch_failed_and_a_rerun_lands_every_row(tmp_path, monkeypatch):
    people = [PensionerFactory() for _ in range(5)]
    path = _feed(tmp_path, people)

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(pgimport, "import_file", crash)
    monkeypatch.setattr(bigdata_services, "_stage_and_insert_portable", crash)
    monkeypatch.setattr(bigdata_services, "_stage_and_insert_pg", crash)
    with pytest.raises(OperationalError):
        evidence_import(path=path, source=source_get("hospital"), today=TODAY)

    batch = EvidenceBatch.objects.get()
    assert batch.status == EvidenceBatch.Status.FAILED
    assert "数据库中断" in batch.failure
    assert not Evidence.objects.exists()

    monkeypatch.undo()
    result = evidence_import(path=path, source=source_get("hospital"), today=TODAY)
    assert result.accepted == 5
    assert sorted(Evidence.objects.values_list("source_ref", flat=True)) == [f"D9-{i}" for i in range(5)]
