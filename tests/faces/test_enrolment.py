"""Reference faces: enroll_face, the bulk folder import (a Celery task with progress), the counter page."""

import json
import shutil

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from certification.faces.models import BulkEnrolment, ReferenceFace
from certification.faces.services import bulk_enrolment_start
from certification.models import AuditLog, Role, StreetOffice, User
from tests.factories import PensionerFactory

from .conftest import FACES, photo


def _json(capsys):  # type: ignore[no-untyped-def]
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_enroll_face_stores_an_encoding_and_prints_json(pensioner, capsys):
    call_command("enroll_face", pensioner.id_number, str(FACES / "obama_1.jpg"))
    out = _json(capsys)
    assert out["enrolled"] is True and out["id_number"] == pensioner.id_number
    ref = ReferenceFace.objects.get(pensioner=pensioner)
    assert ref.source == "command" and ref.vector().shape == (128,)


def test_enroll_face_fails_loudly_on_two_faces(pensioner, capsys):
    with pytest.raises(CommandError, match="multiple_faces"):
        call_command("enroll_face", pensioner.id_number, str(FACES / "two_people.jpg"))
    assert "error" in _json(capsys)
    assert not ReferenceFace.objects.exists()


def test_evaluate_faces_prints_the_design_contract(tmp_path, capsys):
    for name in ("obama_1.jpg", "obama_2.jpg", "biden_1.jpg", "lin_manuel_miranda_1.jpg"):
        shutil.copy(FACES / name, tmp_path / name)
    (tmp_path / "m.csv").write_text("path,identity\nobama_1.jpg,obama\nobama_2.jpg,obama\nbiden_1.jpg,biden\n"
                                    "lin_manuel_miranda_1.jpg,lmm\n")
    call_command("evaluate_faces", "--manifest", str(tmp_path / "m.csv"))
    out = _json(capsys)
    assert set(out) == {"genuine_pairs", "impostor_pairs", "frr", "far", "tolerance", "ms_per_image"}
    assert (out["genuine_pairs"], out["impostor_pairs"], out["frr"], out["far"]) == (1, 5, 0.0, 0.0)
    call_command("evaluate_faces", "--manifest", str(tmp_path / "m.csv"), "--tolerance", "0.2")
    assert _json(capsys)["frr"] == 1.0  # the genuine pair is ~0.4 apart


def test_bulk_enrolment_reports_each_bad_file_and_a_rerun_skips_the_enrolled(tmp_path, db, settings):
    settings.FACE_IMPORT_ROOT = str(tmp_path)  # bulk enrolment reads only inside the import root
    ok = PensionerFactory()
    two = PensionerFactory()
    none = PensionerFactory()
    bad = PensionerFactory()
    shutil.copy(FACES / "obama_1.jpg", tmp_path / f"{ok.id_number}.jpg")
    shutil.copy(FACES / "two_people.jpg", tmp_path / f"{two.id_number}.jpg")
    shutil.copy(FACES / "no_face.jpg", tmp_path / f"{none.id_number}.jpg")
    (tmp_path / f"{bad.id_number}.jpg").write_bytes(b"not a jpeg at all")
    shutil.copy(FACES / "biden_1.jpg", tmp_path / "370202195001019999.jpg")  # nobody has this ID

    run = bulk_enrolment_start(folder=str(tmp_path))
    from certification.faces.tasks import bulk_enrolment_task

    bulk_enrolment_task.delay(run.pk)  # on_commit does not fire inside the test transaction
    run.refresh_from_db()
    assert (run.state, run.total, run.processed, run.enrolled, run.skipped) == ("done", 5, 5, 1, 0)
    reasons = {e["file"].split(".")[0]: e["reason"] for e in run.errors}
    assert reasons == {two.id_number: "multiple_faces", none.id_number: "no_face", bad.id_number: "unreadable",
                       "370202195001019999": "unknown_id"}
    assert ReferenceFace.objects.get(pensioner=ok).source == "bulk"

    again = bulk_enrolment_start(folder=str(tmp_path))
    bulk_enrolment_task.delay(again.pk)
    again.refresh_from_db()
    assert (again.enrolled, again.skipped, len(again.errors)) == (0, 1, 4)
    assert BulkEnrolment.objects.count() == 2


@pytest.fixture
def staff_user(db):  # type: ignore[no-untyped-def]
    u = User.objects.create(username="staff1", role=Role.STAFF)
    u.street_offices.set([StreetOffice.objects.get(name="八大关街道")])
    return u


def test_staff_enrol_a_reference_at_the_counter_for_their_own_office(client, staff_user, pensioner):
    client.force_login(staff_user)
    r = client.post("/face/counter/", {"id_number": pensioner.id_number,
                                       "photo": SimpleUploadedFile("p.jpg", photo("obama_1.jpg"), "image/jpeg")})
    assert r.status_code == 302
    ref = ReferenceFace.objects.get(pensioner=pensioner)
    assert (ref.source, ref.enrolled_by) == ("counter", staff_user)
    assert AuditLog.objects.filter(action="face_reference_enroll", actor=staff_user, pensioner=pensioner).exists()


def test_another_offices_pensioner_is_a_404_at_the_counter(client, staff_user):
    other = PensionerFactory(street_office=StreetOffice.objects.exclude(name="八大关街道").first())
    client.force_login(staff_user)
    r = client.post("/face/counter/", {"id_number": other.id_number,
                                       "photo": SimpleUploadedFile("p.jpg", photo("obama_1.jpg"), "image/jpeg")})
    assert r.status_code == 404
    assert not ReferenceFace.objects.exists()


def test_a_counter_photo_with_no_face_is_refused_with_its_reason(client, staff_user, pensioner):
    client.force_login(staff_user)
    r = client.post("/face/counter/", {"id_number": pensioner.id_number,
                                       "photo": SimpleUploadedFile("p.jpg", photo("no_face.jpg"), "image/jpeg")})
    assert r.status_code == 200 and "照片里没有找到人脸" in r.content.decode()
    assert not ReferenceFace.objects.exists()


def test_an_administrator_starts_a_bulk_enrolment_from_the_page_and_sees_its_errors(
        db, client, tmp_path, django_capture_on_commit_callbacks, settings):
    settings.FACE_IMPORT_ROOT = str(tmp_path.parent)  # bulk enrolment reads only inside the import root
    admin = User.objects.create(username="admin1", role=Role.ADMIN)
    p = PensionerFactory()
    shutil.copy(FACES / "obama_1.jpg", tmp_path / f"{p.id_number}.jpg")
    shutil.copy(FACES / "no_face.jpg", tmp_path / "370202195001019999.jpg")
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/face/bulk/", {"folder": str(tmp_path)})
    assert r.status_code == 302
    page = client.get(r["Location"]).content.decode()
    assert "已完成" in page and "没有这个身份证号的退休人员" in page
    assert ReferenceFace.objects.filter(pensioner=p, source="bulk").exists()


def test_staff_cannot_start_a_bulk_enrolment(client, staff_user):
    client.force_login(staff_user)
    assert client.get("/face/bulk/").status_code == 403
