import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from certification.models import Role
from certification.services import certification_record
from tests.factories import PensionerFactory, UserFactory, office

pytestmark = pytest.mark.django_db


def test_staff_gets_a_token_and_uses_it():
    UserFactory(username="wang", offices=[office()])
    api = APIClient()
    resp = api.post("/api/v1/auth/token/", {"username": "wang", "password": "Correct-Horse-42"}, format="json")
    assert resp.status_code == 200
    token = resp.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    # A staff token is not a pensioner: /me/ is refused with a JSON error.
    me = api.get("/api/v1/me/")
    assert me.status_code == 403
    assert set(me.json()) == {"code", "message"}


def test_wrong_password_gets_a_json_400():
    UserFactory(username="wang", offices=[office()])
    resp = APIClient().post("/api/v1/auth/token/", {"username": "wang", "password": "nope"}, format="json")
    assert resp.status_code == 400
    assert resp.json()["code"] == "invalid"


def test_me_shows_the_pensioner_their_status_and_evidence_log():
    p = PensionerFactory(valid_until=dt.date(2026, 9, 30))
    certification_record(pensioner=p, method="big_data", occurred_on=dt.date(2026, 6, 23), today=dt.date(2026, 7, 1),
                         source="hospital", evidence_ref="H-9")
    user = UserFactory(username="p", role=Role.PENSIONER)
    user.pensioner = p
    user.save()
    api = APIClient()
    api.force_authenticate(user)
    data = api.get(reverse("api:me")).json()
    assert data["valid_until"] == "2027-06-23"
    assert data["masked_id"] == p.id_number[:6] + "********" + p.id_number[14:]
    assert data["certifications"][0]["source"] == "hospital"
