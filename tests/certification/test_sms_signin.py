"""Pensioners and relatives sign in with a 6-digit SMS code (the SMS gateway is the file transport)."""

import re

import pytest
import time_machine
from django.urls import reverse

from certification.models import User
from tests.factories import PensionerFactory

pytestmark = pytest.mark.django_db


def code_in(sms: dict) -> str:
    return re.search(r"\b(\d{6})\b", sms["text"]).group(1)


def start(client, id_number):
    return client.post(reverse("certification:pensioner_login"), {"id_number": id_number})


def test_pensioner_signs_in_with_the_code_sent_to_the_phone_on_file(client, sent_sms):
    p = PensionerFactory(phone="13911112222")
    assert start(client, p.id_number).status_code == 302
    [sms] = sent_sms()
    assert sms["phone"] == "13911112222"
    resp = client.post(reverse("certification:pensioner_login_code"), {"code": code_in(sms)})
    assert resp.status_code == 302 and resp["Location"] == reverse("certification:pensioner_home")
    home = client.get(reverse("certification:pensioner_home"))
    assert p.name in home.content.decode()
    assert User.objects.get(pensioner=p).role == "pensioner"


def test_wrong_code_is_refused_with_a_clear_message(client, sent_sms):
    p = PensionerFactory()
    start(client, p.id_number)
    real = code_in(sent_sms()[0])
    wrong = "000000" if real != "000000" else "111111"
    resp = client.post(reverse("certification:pensioner_login_code"), {"code": wrong})
    assert resp.status_code == 200
    assert "验证码不正确或已过期" in resp.content.decode()
    assert "_auth_user_id" not in client.session


def test_after_five_wrong_tries_even_the_right_code_fails(client, sent_sms):
    p = PensionerFactory()
    start(client, p.id_number)
    real = code_in(sent_sms()[0])
    wrong = "000000" if real != "000000" else "111111"
    for _ in range(5):
        client.post(reverse("certification:pensioner_login_code"), {"code": wrong})
    resp = client.post(reverse("certification:pensioner_login_code"), {"code": real})
    assert "验证码不正确或已过期" in resp.content.decode()
    assert "_auth_user_id" not in client.session


def test_code_expires_after_five_minutes(client, sent_sms):
    p = PensionerFactory()
    with time_machine.travel("2026-11-30 10:00:00+08:00", tick=False):
        start(client, p.id_number)
    code = code_in(sent_sms()[0])
    with time_machine.travel("2026-11-30 10:05:01+08:00", tick=False):
        resp = client.post(reverse("certification:pensioner_login_code"), {"code": code})
    assert "验证码不正确或已过期" in resp.content.decode()


def test_unknown_id_gets_the_same_answer_and_no_sms(client, sent_sms):
    import datetime as dt

    from certification import idnumber

    unknown = idnumber.make("370203", dt.date(1951, 5, 5), 77)
    resp = start(client, unknown)
    assert resp.status_code == 302 and resp["Location"] == reverse("certification:pensioner_login_code")
    assert sent_sms() == []


def test_invalid_checksum_is_a_form_error():
    import datetime as dt

    from django.test import Client

    from certification import idnumber

    good = idnumber.make("370202", dt.date(1950, 1, 2), 1)
    bad = good[:17] + ("1" if good[17] != "1" else "2")
    resp = Client().post(reverse("certification:pensioner_login"), {"id_number": bad})
    # Plain words next to the field (issue 12), not the jargon "校验位错误".
    text = resp.content.decode()
    assert resp.status_code == 200 and "身份证号好像输错了一位，请再核对一下" in text and "校验位" not in text


def test_sending_is_rate_limited(client, sent_sms):
    p = PensionerFactory()
    with time_machine.travel("2026-11-30 10:00:00+08:00", tick=False) as t:
        for _ in range(5):
            start(client, p.id_number)
            t.shift(61)
        resp = start(client, p.id_number)
    assert len(sent_sms()) == 5
    assert "太频繁" in resp.content.decode()


def test_relative_account_is_created_on_first_verified_sign_in(client, sent_sms):
    client.post(reverse("certification:relative_login"), {"phone": "13822223333", "name": "张伟"})
    code = code_in(sent_sms()[0])
    resp = client.post(reverse("certification:relative_login_code"), {"code": code})
    assert resp["Location"] == reverse("certification:relative_home")
    user = User.objects.get(phone="13822223333")
    assert (user.role, user.first_name, user.has_usable_password()) == ("relative", "张伟", False)
    assert user.phone_verified_at is not None
