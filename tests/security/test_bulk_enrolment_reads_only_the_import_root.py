"""Issue 13 item 13: bulk enrolment read any server folder. It now reads only folders inside
settings.FACE_IMPORT_ROOT: not /etc, not `..` out of the root, not through a symbolic link."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from certification.faces.models import BulkEnrolment, ReferenceFace
from certification.faces.services import FaceDenied, bulk_enrolment_run, bulk_enrolment_start
from certification.models import Role, User
from tests.factories import PensionerFactory

pytestmark = pytest.mark.django_db

FACES = Path(__file__).resolve().parent.parent / "fixtures" / "faces"


@pytest.fixture
def root(tmp_path, settings):
    r = tmp_path / "import"
    r.mkdir()
    settings.FACE_IMPORT_ROOT = str(r)
    return r


def test_a_folder_outside_the_root_is_refused_before_anything_is_read(root, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    p = PensionerFactory()
    shutil.copy(FACES / "obama_1.jpg", outside / f"{p.id_number}.jpg")
    for folder in (str(outside), "/etc", f"{root}/../elsewhere", "../elsewhere"):
        with pytest.raises(FaceDenied) as exc:
            bulk_enrolment_start(folder=folder)
        assert exc.value.code == "outside_import_root"
    assert not BulkEnrolment.objects.exists() and not ReferenceFace.objects.exists()


def test_a_symbolic_link_out_of_the_root_is_refused_too(root, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(FaceDenied):
        bulk_enrolment_start(folder="link")
    # A photo inside the folder that links out of the root is not read either.
    p = PensionerFactory()
    shutil.copy(FACES / "obama_1.jpg", outside / f"{p.id_number}.jpg")
    batch = root / "batch1"
    batch.mkdir()
    (batch / f"{p.id_number}.jpg").symlink_to(outside / f"{p.id_number}.jpg")
    run = bulk_enrolment_start(folder="batch1")
    run = bulk_enrolment_run(run_id=run.pk)
    assert run.total == 0 and not ReferenceFace.objects.exists()


def test_a_folder_inside_the_root_is_enrolled_by_name_or_full_path(root):
    p = PensionerFactory()
    batch = root / "2026-12"
    batch.mkdir()
    shutil.copy(FACES / "obama_1.jpg", batch / f"{p.id_number}.jpg")
    run = bulk_enrolment_start(folder="2026-12")
    assert run.folder == str(batch.resolve())
    run = bulk_enrolment_run(run_id=run.pk)
    assert (run.state, run.enrolled) == ("done", 1)
    assert bulk_enrolment_start(folder=str(batch)).folder == str(batch.resolve())


def test_the_command_and_the_page_refuse_an_outside_folder(root, client, capsys):
    with pytest.raises((CommandError, SystemExit)):
        call_command("enroll_face_folder", "/etc")
    admin = User.objects.create(username="admin1", role=Role.ADMIN)
    client.force_login(admin)
    resp = client.post("/face/bulk/", {"folder": "/etc"})
    assert resp.status_code == 200 and "只能导入证件照导入目录" in resp.content.decode()
    assert not BulkEnrolment.objects.exists()
