"""Issue 13 item 2: code requests are limited per client address and overall, and an ID
number locks after repeated wrong codes (the audit: 20 IDs, 20 SMS in 3.5 s from one
client; 25 guesses an hour per ID with no lock)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from certification import idnumber
from tests.factories import PensionerFactory

pytestmark = pytest.mark.django_db


def _start(client: Client, id_number: str, address: str = "203.0.113.7"):  # type: ignore[no-untyped-def]
    return client.post(reverse("certification:pensioner_login"), {"id_number": id_number}, REMOTE_ADDR=address)


def _guess(client: Client, code: str, address: str = "203.0.113.7"):  # type: ignore[no-untyped-def]
    return client.post(reverse("certification:pensioner_login_code"), {"code": code}, REMOTE_ADDR=address)


def test_one_client_asking_for_many_ids_is_stopped_after_the_hourly_limit(sent_sms, settings):
    people = [PensionerFactory(phone=f"1390000{i:04d}") for i in range(settings.SIGNIN_CODES_PER_ADDRESS_PER_HOUR + 1)]
    answers = [_start(Client(), p.id_number) for p in people]
    assert all(r.status_code == 302 for r in answers[:-1])
    assert answers[-1].status_code == 200 and "请求太频繁" in answers[-1].content.decode()
    assert len(sent_sms()) == settings.SIGNIN_CODES_PER_ADDRESS_PER_HOUR
    # Another address is not affected.
    assert _start(Client(), people[-1].id_number, address="198.51.100.20").status_code == 302


def test_all_clients_together_are_limited_per_minute(sent_sms, settings):
    settings.SIGNIN_CODES_PER_MINUTE = 5
    people = [PensionerFactory(phone=f"1391111{i:04d}") for i in range(6)]
    with time_machine.travel("2026-12-01 10:00:00+08:00", tick=False) as t:
        answers = [_start(Client(), p.id_number, address=f"198.51.100.{i + 1}") for i, p in enumerate(people)]
        assert [r.status_code for r in answers] == [302] * 5 + [200]
        assert "请一分钟后再试" in answers[-1].content.decode()
        t.shift(61)
        assert _start(Client(), people[-1].id_number, address="198.51.100.99").status_code == 302
    assert len(sent_sms()) == 6


def _wrong(real: str) -> str:
    return "000000" if real != "000000" else "111111"


@pytest.mark.parametrize("on_roster", [True, False], ids=["roster ID", "unknown ID"])
def test_an_id_locks_after_ten_wrong_codes_the_same_way_whether_or_not_it_exists(on_roster, sent_sms):
    number = PensionerFactory(phone="13922223333").id_number if on_roster else idnumber.make(
        "370203", dt.date(1949, 9, 9), 42)
    c = Client()
    with time_machine.travel("2026-12-01 10:00:00+08:00", tick=False) as t:
        for _ in range(2):  # two codes, five wrong tries each
            assert _start(c, number).status_code == 302
            for _ in range(5):
                _guess(c, "000000" if on_roster is False else _wrong(_last_code(sent_sms)))
            t.shift(61)
        third = _start(c, number)
        assert third.status_code == 200 and "输错次数太多" in third.content.decode()
        if on_roster:
            assert len(sent_sms()) == 2  # no third code went out
        # Even the right code of the last SMS is refused now.
        resp = _guess(c, _last_code(sent_sms) if on_roster else "123456")
        assert "输错次数太多" in resp.content.decode()
        assert "_auth_user_id" not in c.session
    # The lock lifts after the window.
    with time_machine.travel("2026-12-02 10:05:00+08:00", tick=False):
        assert _start(c, number).status_code == 302


def _last_code(sent_sms) -> str:  # type: ignore[no-untyped-def]
    import re

    return re.search(r"\b(\d{6})\b", sent_sms()[-1]["text"]).group(1)


def test_sign_in_events_older_than_a_day_are_purged_by_the_daily_task():
    from certification.accounts.models import SignInEvent
    from certification.accounts.tasks import signin_events_purge_task

    with time_machine.travel("2026-12-01 10:00:00+08:00", tick=False):
        _start(Client(), idnumber.make("370203", dt.date(1949, 9, 9), 43))
    with time_machine.travel("2026-12-02 09:00:00+08:00", tick=False):
        _start(Client(), idnumber.make("370203", dt.date(1949, 9, 9), 44))
    with time_machine.travel("2026-12-02 10:30:00+08:00", tick=False):
        assert signin_events_purge_task() == 1
    assert SignInEvent.objects.count() == 1
