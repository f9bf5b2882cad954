"""Issue 13 item 9: a Content-Security-Policy without unsafe-inline, a Permissions-Policy that
allows the camera only on the face pages, and Cache-Control: no-store on every page and
file with personal data (the queue, a record, the .xlsx), DESIGN §7."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import UserFactory
from tests.staff.helpers import two_offices, warning_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(time_machine):
    time_machine.move_to("2026-11-30 10:00 +08:00", tick=False)
    a, _b, staff, *_rest, admin = two_offices()
    admin.user_permissions.add(Permission.objects.get(codename="unmask_pii"))
    return dict(staff=staff, admin=admin, p=warning_person(a, name="孙玉兰"))


def _csp(resp) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    header = resp["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


def test_the_queue_the_record_and_the_excel_file_are_never_stored(w, client):
    client.force_login(w["staff"])
    for path in (reverse("staff:queue"), reverse("staff:pensioner", args=[w["p"].public_key]),
                 reverse("staff:queue_export")):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert resp["Cache-Control"] == "no-store", path


def test_the_api_record_is_never_stored(w):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(w["admin"])
    resp = api.get(f"/api/v1/staff/pensioners/{w['p'].public_key}/")
    assert resp.status_code == 200 and resp["Cache-Control"] == "no-store"


def test_every_page_has_a_policy_without_unsafe_inline(w, client):
    client.force_login(w["staff"])
    for path in ("/", reverse("staff:queue"), reverse("staff:pensioner", args=[w["p"].public_key]),
                 "/login/", "/api/docs/"):
        resp = client.get(path, follow=True)
        policy = _csp(resp)
        assert policy["script-src"] == ["'self'"], path
        # Swagger UI's one fixed <style> element is allowed by its hash, on /api/docs/ only.
        assert policy["style-src"][0] == "'self'" and all(s.startswith("'sha256-") for s in policy["style-src"][1:])
        assert len(policy["style-src"]) == (2 if path == "/api/docs/" else 1), path
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        assert "unsafe-inline" not in resp["Content-Security-Policy"]
        assert "unsafe-eval" not in resp["Content-Security-Policy"]


def test_the_camera_is_allowed_only_on_the_face_capture_pages(w, client):
    client.force_login(w["staff"])
    queue = client.get(reverse("staff:queue"))
    assert "camera=()" in queue["Permissions-Policy"] and "microphone=()" in queue["Permissions-Policy"]
    pensioner = UserFactory(role="pensioner", pensioner=w["p"])
    client.force_login(pensioner)
    capture = client.get(reverse("faces:capture", args=[1]))
    assert "camera=(self)" in capture["Permissions-Policy"]
    assert "camera=()" in client.get(reverse("faces:self_start"))["Permissions-Policy"]


def test_no_template_has_an_inline_script_style_or_event_handler():
    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html):
            offenders.append(f"{path}: inline <script>")
        if re.search(r"<style\b", html):
            offenders.append(f"{path}: <style> block")
        if re.search(r"\sstyle=", html):
            offenders.append(f"{path}: style= attribute")
        if re.search(r"\son[a-z]+=", html):
            offenders.append(f"{path}: inline event handler")
        if "javascript:" in html:
            offenders.append(f"{path}: javascript: URL")
    assert offenders == []


def test_the_queue_rows_built_in_python_carry_no_inline_style(w, client):
    client.force_login(w["staff"])
    html = client.get(reverse("staff:queue")).content.decode()
    assert "<style" not in html and " style=" not in html
    assert 'data-label="身份证号"' in html  # the phone-width labels come from CSS attr()
