"""No dead end for the wrongly dead (issue 10; DESIGN §5 "never left at a dead end", §7).

A person recorded as deceased signs in with a code to their phone like anyone else, reaches
their page, files "I am alive" there, and later sees its state and the answer. "Certify me"
stays closed while the death stands: no face button, and the session start is a 403.
"""

from __future__ import annotations

import datetime as dt
import re

from django.test import Client
from django.urls import reverse

from certification.cases import services
from certification.cases.models import Appeal
from certification.faces.models import ReferenceFace
from certification.services import pensioner_mark_deceased
from notifications.models import Message
from tests.factories import PensionerFactory

from .conftest import DUE


def _wrongly_dead(w):
    p = PensionerFactory(street_office=w["a"], phone="13912340001", valid_until=dt.date(2027, 6, 1), name="吴桂兰")
    pensioner_mark_deceased(pensioner=p, death_date=dt.date(2026, 10, 20), today=dt.date(2026, 11, 2),
                            source="death_civil")
    p.refresh_from_db()
    assert p.status == "deceased"
    return p


def sign_in(client: Client, p, sent_sms) -> None:
    """The real two steps: the ID number, then the code the SMS carried."""
    assert client.post(reverse("certification:pensioner_login"), {"id_number": p.id_number}).status_code == 302
    [sms] = [s for s in sent_sms() if s["phone"] == p.phone]
    code = re.search(r"\b(\d{6})\b", sms["text"]).group(1)
    resp = client.post(reverse("certification:pensioner_login_code"), {"code": code})
    assert resp.status_code == 302 and resp["Location"] == reverse("certification:pensioner_home")


def test_a_wrongly_dead_pensioner_signs_in_appeals_and_sees_the_answer(w, sent_sms):
    p = _wrongly_dead(w)
    ReferenceFace.objects.create(pensioner=p, encoding=b"\0" * 1024, source="bulk")
    client = Client()
    sign_in(client, p, sent_sms)
    home = client.get(reverse("certification:pensioner_home")).content.decode()
    assert "已登记死亡" in home or "已去世" in home
    assert 'data-testid="appeal-entry"' in home and 'data-testid="call-office"' in home
    assert 'data-testid="face-button"' not in home
    # "Certify me" is closed while deceased, even with a reference photo.
    start = client.post("/api/v1/faces/sessions/", {"mode": "self", "consent": True},
                        content_type="application/json")
    assert start.status_code == 403, start.content
    form = client.get(reverse("cases:pensioner_appeal")).content.decode()
    assert re.search(r'<input[^>]*value="alive"[^>]*checked', form), "the form should preselect 'I am alive'"
    resp = client.post(reverse("cases:pensioner_appeal"),
                       {"kind": "alive", "text": "我还活着，是身份证号录错了", "contact_phone": p.phone})
    assert resp.status_code == 302
    appeal = Appeal.objects.get(pensioner=p)
    assert (appeal.via, appeal.kind, appeal.state, appeal.due_on) == ("pensioner", "alive", "open", DUE)
    page = client.get(reverse("certification:pensioner_home")).content.decode()
    assert 'data-testid="appeal-open"' in page and "2026年12月8日" in page
    assert 'data-testid="appeal-entry"' not in page  # one open appeal at a time
    services.appeal_answer(appeal=appeal, staff=w["staff"], outcome="corrected",
                           note="经核实系录入错误，已登记撤销死亡，待第二人确认。")
    page = client.get(reverse("certification:pensioner_home")).content.decode()
    assert 'data-testid="appeal-answered"' in page and "经核实系录入错误" in page
    texts = list(Message.objects.filter(pensioner_id=p.pk).order_by("id").values_list("template", flat=True))
    assert texts[-2:] == ["appeal_filed", "appeal_answered"]


def test_the_me_api_answers_a_deceased_pensioner(w, sent_sms):
    p = _wrongly_dead(w)
    client = Client()
    sign_in(client, p, sent_sms)
    data = client.get("/api/v1/me/").json()
    assert data["status"] == "deceased" and data["days_until_suspension"] is None
