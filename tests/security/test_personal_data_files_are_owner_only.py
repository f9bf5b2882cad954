"""Issue 13 item 14: files that hold personal data (the roster CSV, errors files, exports,
sms.log) are created readable by the service's own user only (0600), DESIGN §7."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import stat
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from bigdata.models import EvidenceSource
from bigdata.services import feed_upload
from certification.private_files import open_private
from notifications.transports import FileTransport
from tests.factories import PensionerFactory, office

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _usual_umask():
    old = os.umask(0o022)  # what a service usually runs with: open() would give 0644
    yield
    os.umask(old)


def _mode(path: str | Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_payment_roster_csv_is_owner_only(tmp_path, time_machine):
    time_machine.move_to("2026-11-20 10:00 +08:00", tick=False)
    PensionerFactory(street_office=office(), valid_until=dt.date(2027, 6, 1))
    path = tmp_path / "roster" / "roster-2026-12.csv"
    call_command("export_payment_roster", "--month", "2026-12", "--output", str(path), stdout=io.StringIO())
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700


def test_the_roster_import_errors_file_is_owner_only(tmp_path, capsys, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    roster = tmp_path / "roster.csv"
    roster.write_text("id_number,name,phone,street_office,monthly_amount,valid_until\n"
                      "123,张三,13900000000,八大关街道,100,2027-01-01\n", encoding="utf-8")
    call_command("import_pensioners", str(roster))
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["rejected"] == 1 and _mode(out["errors_file"]) == 0o600


def test_the_feed_errors_file_and_the_uploaded_feed_are_owner_only(tmp_path, capsys, settings, time_machine):
    time_machine.move_to("2026-11-20 10:00 +08:00", tick=False)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    feed = tmp_path / "feed.csv"
    feed.write_text("id_number,event_date,source_ref\nnot-an-id,2026-06-01,R-1\n", encoding="utf-8")
    call_command("import_evidence", str(feed), "--source", "hospital")
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["rejected"] == 1 and _mode(out["errors_file"]) == 0o600
    assert _mode(Path(out["errors_file"]).parent) == 0o700

    upload = SimpleUploadedFile("partner.csv", b"id_number,event_date,source_ref\n")
    batch = feed_upload(source=EvidenceSource.objects.get(code="hospital"), upload=upload, uploaded_by=None)
    assert _mode(batch.file.path) == 0o600


def test_sms_log_is_created_owner_only_and_an_old_world_readable_one_is_narrowed(tmp_path, settings):
    settings.SMS_FILE_PATH = str(tmp_path / "sms.log")
    FileTransport().notify(phone="13900000000", text="您的验证码是 123456")
    assert _mode(settings.SMS_FILE_PATH) == 0o600

    old = tmp_path / "old-sms.log"
    old.write_text("{}\n")
    old.chmod(0o644)
    settings.SMS_FILE_PATH = str(old)
    FileTransport().notify(phone="13900000000", text="x")
    assert _mode(old) == 0o600 and old.read_text().count("\n") == 2


def test_open_private_refuses_to_be_used_for_reading(tmp_path):
    with pytest.raises(ValueError):
        open_private(tmp_path / "x", "r")
