"""Issue 13 item 12: a relative's free-text name goes into the official SMS to the pensioner
("{helper}（{relationship}）为您代办了…"). Only a short Chinese or Latin name gets there."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from certification import names
from certification.models import Certification, User
from notifications.models import Message
from notifications.services import notify_proxy_certification
from tests.factories import PensionerFactory, UserFactory

pytestmark = pytest.mark.django_db

PHISHING = "客服：您的养老金已冻结，请速回电 13800000000 或登录 http://qd-rs.example"


def test_names_are_chinese_or_latin_letters_and_short():
    for ok in ("张伟", "欧阳娜娜", "买买提·艾力", "阿卜杜热西提·阿卜杜拉", "Anna Smith", "John O'Brien",
               "Mary-Jane Li", "ＪＯＨＮ"):
        assert names.is_valid(ok), ok
    for bad in (PHISHING, "张伟13800000000", "http://x.cn", "张伟。请回电", "张" * 16, "A", "a" * 31,
                "张伟 Wei", "<b>张伟</b>", "·张伟", "", "   "):
        assert not names.is_valid(bad), bad


def test_the_relative_sign_in_form_refuses_a_sentence_as_a_name(client, sent_sms):
    # Short enough for the field's 30 characters: only the name rule stops it.
    resp = client.post(reverse("certification:relative_login"), {"phone": "13822223333", "name": "客服请速回电13800000000"})
    assert resp.status_code == 200
    assert "姓名只能是汉字或英文字母" in resp.content.decode()
    assert sent_sms() == [] and "signin_phone" not in client.session


def test_a_stored_bad_name_and_a_free_text_relationship_never_reach_the_sms():
    p = PensionerFactory(name="孙玉兰")
    relative = UserFactory(role="relative", username="r13822223333", first_name=PHISHING, phone="13822223333")
    cert = Certification.objects.create(pensioner=p, method="face_proxy", occurred_on=dt.date(2026, 11, 30),
                                        helper=relative, helper_relationship="请点 http://qd-rs.example 核对")
    notify_proxy_certification(certification_id=cert.pk)
    text = Message.objects.get(template="proxy_certified").text
    assert "您的亲属（亲属）" in text
    assert "http" not in text and "13800000000" not in text and "13822223333" not in text


def test_a_plain_name_is_still_quoted():
    p = PensionerFactory(name="孙玉兰")
    relative = User.objects.create(username="r13822224444", role="relative", first_name="张伟", phone="13822224444")
    cert = Certification.objects.create(pensioner=p, method="face_proxy", occurred_on=dt.date(2026, 11, 30),
                                        helper=relative, helper_relationship="子女")
    notify_proxy_certification(certification_id=cert.pk)
    assert "张伟（子女）" in Message.objects.get(template="proxy_certified").text


def test_a_kinship_word_is_quoted_and_anything_else_is_not():
    assert names.relationship_for_sms("儿子") == "儿子" and names.relationship_for_sms("外孙女") == "外孙女"
    for bad in ("请回电13800000000", "son", "点击链接领取补贴金", ""):
        assert names.relationship_for_sms(bad) == "亲属", bad
