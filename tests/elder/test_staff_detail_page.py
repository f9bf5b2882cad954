"""Staff see face attempts with reasons, a marker on queue rows, source names not codes,
people's names not usernames, and the back-pay after a counter restoration (issue 12 items 5, 9)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine

from certification.faces import services as faces
from certification.faces.models import ReferenceFace
from certification.models import Role
from certification.services import certification_record
from certification.staff.services import contact_record
from tests.factories import UserFactory
from tests.staff.helpers import suspended_person, two_offices, warning_person

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PHOTO = Path(__file__).resolve().parents[1] / "fixtures" / "faces" / "lin_manuel_miranda_1.jpg"


@time_machine.travel(NOON, tick=True)
def test_five_failed_tries_show_with_reasons_on_the_detail_page_and_as_a_queue_marker(client):
    a, _b, staff_a, *_ = two_offices()
    p = warning_person(a, name="林曼努")
    other = warning_person(a, name="孙二")
    faces.reference_enroll(pensioner=p, image=PHOTO.read_bytes(), source=ReferenceFace.Source.COMMAND)
    user = UserFactory(username="plin", role=Role.PENSIONER)
    user.pensioner = p
    user.save()
    consent = faces.consent_record(user=user, pensioner=p, mode="self")
    for _ in range(5):
        faces.session_start(user=user, consent=consent)
        faces.attempts_abandon(pensioner_id=p.pk, expired_only=False)
    client.force_login(staff_a)

    page = client.get(f"/staff/pensioners/{p.public_key}/").content.decode()
    section = page[page.index('data-testid="face-attempts"'):]
    assert section.count('data-testid="face-attempt"') == 5
    assert "未通过" in section and "本人" in section
    assert "中途放弃" in section  # the reason, in words
    other_page = client.get(f"/staff/pensioners/{other.public_key}/").content.decode()
    assert "没有刷脸认证记录" in other_page and 'data-testid="no-reference"' in other_page

    queue = client.get("/staff/queue/").content.decode()
    rows = {name: row for row in queue.split('data-testid="row"')[1:] for name in ("林曼努", "孙二") if name in row}
    assert 'data-testid="face-exhausted"' in rows["林曼努"]
    assert 'data-testid="face-exhausted"' not in rows["孙二"]


@time_machine.travel(NOON, tick=True)
def test_the_detail_page_names_sources_and_staff_and_shows_back_pay_after_a_counter_restoration(client):
    a, _b, staff_a, _staff_a2, _staff_b, admin = two_offices()
    admin.street_offices.add(a)
    p = suspended_person(a, name="陈建国")
    seen = warning_person(a, name="王秀英")
    certification_record(pensioner=seen, method="big_data", occurred_on=dt.date(2026, 11, 20),
                         today=dt.date(2026, 11, 30), source="hospital", evidence_ref="H-1")
    contact_record(pensioner=p, staff=staff_a, outcome="no_answer", note="")
    client.force_login(staff_a)
    r = client.post(f"/staff/pensioners/{p.public_key}/counter-certification/",
                    {"occurred_on": "2026-11-30", "id_checked": "on"})
    assert r.status_code == 302
    p.refresh_from_db()
    assert p.status == "active"
    assert p.back_pays.count() == 1, list(p.back_pays.values())

    page = client.get(f"/staff/pensioners/{p.public_key}/").content.decode()
    back_pay = page[page.index('data-testid="staff-back-pay"'):]
    bp = p.back_pays.get()
    assert f"{bp.total}" in back_pay
    assert all(f"{line.month:%Y-%m} {line.amount}" in back_pay for line in bp.lines.all())
    seen_page = client.get(f"/staff/pensioners/{seen.public_key}/").content.decode()
    history = seen_page[seen_page.index("认证记录"):]
    assert "医院住院/出院记录" in history and ">hospital<" not in history
    contacts = page[page.index("<h2>联系记录"):page.index("<h2>短信")]
    assert "王丽" in contacts and staff_a.username not in contacts
    visit_form = page[page.index('data-testid="visit-form"'):]
    assert "王丽" in visit_form and "赵强" in visit_form
    assert f'value="{admin.pk}"' not in visit_form  # a city administrator is not a home-visit assignee
