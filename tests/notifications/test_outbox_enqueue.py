import pytest

from notifications.models import Message
from notifications.services import notify_proxy_certification, outbox_enqueue
from tests.factories import PensionerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_enqueue_stores_the_rendered_chinese_text_before_sending(time_machine):
    time_machine.move_to("2026-11-30 10:00 +08:00")
    p = PensionerFactory(name="王秀英")
    msg = outbox_enqueue(phone=p.phone, template="suspended", pensioner_id=p.pk,
                         context={"name": p.name, "suspended_since": "2026年12月1日"}, dedup_key="k1")
    assert msg.status == Message.Status.QUEUED
    assert msg.text.startswith("【青岛人社】王秀英您好")
    assert "2026年12月1日起暂停发放" in msg.text
    assert msg.recipient == p.phone


def test_enqueue_twice_with_one_dedup_key_gives_one_row():
    p = PensionerFactory()
    a = outbox_enqueue(phone=p.phone, template="staff_message", context={"text": "一"}, dedup_key="same")
    b = outbox_enqueue(phone=p.phone, template="staff_message", context={"text": "二"}, dedup_key="same")
    assert a.pk == b.pk
    assert Message.objects.filter(dedup_key="same").count() == 1
    assert Message.objects.get().text.endswith("一")


def test_enqueue_without_a_phone_keeps_the_row_but_never_sends_it():
    msg = outbox_enqueue(phone="", template="staff_message", context={"text": "x"}, dedup_key="nophone")
    assert msg.status == Message.Status.PERMANENTLY_FAILED
    assert msg.last_error == "无手机号"


def test_the_send_is_kicked_only_after_commit(django_capture_on_commit_callbacks, sent_sms, time_machine):
    time_machine.move_to("2026-11-30 10:00 +08:00")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outbox_enqueue(phone="13900000001", template="staff_message", context={"text": "您好"}, dedup_key="k")
    assert sent_sms() == []
    assert len(callbacks) == 1
    callbacks[0]()  # commit: eager Celery sends inline
    assert [m["phone"] for m in sent_sms()] == ["13900000001"]
    assert Message.objects.get().status == Message.Status.SENT


def test_proxy_certification_sms_names_the_helper_once(django_capture_on_commit_callbacks, sent_sms, time_machine):
    time_machine.move_to("2026-11-30 10:00 +08:00")
    import datetime as dt

    from certification.models import Certification

    p = PensionerFactory(name="李桂兰")
    helper = UserFactory(role="relative", first_name="建国", last_name="李")
    cert = Certification.objects.create(pensioner=p, method="face_proxy", occurred_on=dt.date(2026, 11, 30),
                                        helper=helper, helper_relationship="儿子")
    with django_capture_on_commit_callbacks(execute=True):
        notify_proxy_certification(certification_id=cert.pk)
        notify_proxy_certification(certification_id=cert.pk)
    texts = [m["text"] for m in sent_sms()]
    assert len(texts) == 1
    assert "李建国（儿子）于2026年11月30日为您代办" in texts[0]
