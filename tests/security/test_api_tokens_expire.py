"""Issue 13 item 10: API tokens expire, are stored hashed, and die with a password change.

The contract stays: POST /api/v1/auth/token/ {"username","password"} → {"token"}, then
`Authorization: Token …` (DESIGN §4).
"""

from __future__ import annotations

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.factories import UserFactory, office

pytestmark = pytest.mark.django_db
QUEUE = "/api/v1/staff/queue/"


def _token(username: str = "wang") -> str:
    resp = APIClient().post("/api/v1/auth/token/", {"username": username, "password": "Correct-Horse-42"},
                            format="json")
    assert resp.status_code == 200 and set(resp.json()) == {"token"}
    return resp.json()["token"]


def _get(token: str) -> int:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api.get(QUEUE).status_code


def test_a_token_stops_working_after_eight_hours():
    UserFactory(username="wang", offices=[office()])
    with time_machine.travel("2026-12-01 09:00:00+08:00", tick=False) as t:
        token = _token()
        assert _get(token) == 200
        t.shift(7 * 3600 + 59 * 60)
        assert _get(token) == 200
        t.shift(2 * 60)
        assert _get(token) == 401


def test_a_password_change_revokes_every_token_of_the_user():
    user = UserFactory(username="wang", offices=[office()])
    first, second = _token(), _token()
    assert _get(first) == _get(second) == 200
    from certification.accounts.models import ApiToken

    user.set_password("Another-Horse-4711")
    user.save()
    assert _get(first) == 401 and _get(second) == 401
    assert not ApiToken.objects.filter(user=user).exists()


def test_tokens_are_stored_only_as_a_digest():
    UserFactory(username="wang", offices=[office()])
    token = _token()
    from certification.accounts.models import ApiToken

    row = ApiToken.objects.get()
    assert token not in (row.digest, row.token_key) and len(row.digest) == 128
    assert row.expiry is not None


def test_a_user_holds_at_most_twenty_tokens_the_oldest_going_first(settings):
    from certification.accounts.tokens import api_token_issue

    user = UserFactory(username="wang", offices=[office()])
    tokens = [api_token_issue(user=user) for _ in range(21)]
    assert _get(tokens[0]) == 401
    assert _get(tokens[1]) == 200 and _get(tokens[-1]) == 200
