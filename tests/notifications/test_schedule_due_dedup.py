"""Nightly scheduling: each event becomes one outbox row, and a re-run adds nothing."""

import datetime as dt
from decimal import Decimal

import pytest

from certification import rules
from certification.models import Certification
from certification.services import certification_record, transitions_run
from notifications.models import Message
from notifications.scheduling import schedule_due
from tests.factories import PensionerFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 30)


def _templates() -> list[str]:
    return sorted(Message.objects.values_list("template", flat=True))


def test_entering_warning_texts_the_pensioner_and_the_trusted_relative_once():
    p = PensionerFactory(valid_until=TODAY - dt.timedelta(days=1), relative_phone="13800000009")
    transitions_run(today=TODAY)
    first = schedule_due(today=TODAY)
    second = schedule_due(today=TODAY)
    assert first["entered_warning"] == 2
    assert second["entered_warning"] == 0
    rows = Message.objects.filter(pensioner=p).order_by("template")
    assert [(m.template, m.recipient) for m in rows] == [
        ("warning_entered", p.phone), ("warning_entered_relative", "13800000009")]
    assert "2027年3月1日前完成认证" in rows[0].text  # suspension: 2026-11-29 + 3 months + 1 day


def test_reminder_every_30_days_during_warning_and_not_on_other_days():
    due = PensionerFactory(valid_until=TODAY - dt.timedelta(days=31), status="warning")  # day 31 of warning
    PensionerFactory(valid_until=TODAY - dt.timedelta(days=20), status="warning")  # day 21: nothing
    assert schedule_due(today=TODAY)["warning_reminder"] == 1
    assert schedule_due(today=TODAY + dt.timedelta(days=1))["warning_reminder"] == 0  # catch-up sees the same key
    assert Message.objects.get(template="warning_reminder").pensioner_id == due.pk


def test_seven_days_before_suspension_is_sent_once():
    vu = next(TODAY - dt.timedelta(days=d) for d in range(80, 100)
              if rules.days_until_suspension(TODAY - dt.timedelta(days=d), TODAY) == 7)
    p = PensionerFactory(valid_until=vu, status="warning")
    assert schedule_due(today=TODAY)["suspension_soon"] == 1
    assert schedule_due(today=TODAY + dt.timedelta(days=1))["suspension_soon"] == 0
    msg = Message.objects.get(template="suspension_soon")
    assert msg.pensioner_id == p.pk and "再过7天" in msg.text


def test_suspension_and_restoration_with_back_pay_are_each_sent_once():
    p = PensionerFactory(valid_until=dt.date(2026, 7, 15), monthly_amount=Decimal("2500.00"))
    transitions_run(today=TODAY)  # warning ended 2026-10-15 → suspended since 2026-10-16
    p.refresh_from_db()
    assert p.status == "suspended"
    assert schedule_due(today=TODAY)["suspended"] == 1
    certification_record(pensioner=p, method="counter", occurred_on=TODAY, today=TODAY)
    counts = schedule_due(today=TODAY)
    assert counts["restored"] == 1 and counts["suspended"] == 0
    restored = Message.objects.get(template="restored")
    assert "补发2500.00元（共1个月）" in restored.text  # 1 November fell inside the suspension
    assert schedule_due(today=TODAY)["restored"] == 0


def test_big_data_success_is_silent_when_the_setting_is_off(settings):
    p = PensionerFactory(valid_until=dt.date(2027, 1, 1))
    Certification.objects.create(pensioner=p, method="big_data", occurred_on=TODAY, source="hospital",
                                 evidence_ref="h1")
    settings.NOTIFY_BIG_DATA_SUCCESS = False
    assert schedule_due(today=TODAY)["big_data_certified"] == 0
    settings.NOTIFY_BIG_DATA_SUCCESS = True
    assert schedule_due(today=TODAY)["big_data_certified"] == 1
    assert schedule_due(today=TODAY)["big_data_certified"] == 0


def test_proxy_certification_is_picked_up_from_the_certification_row():
    p = PensionerFactory()
    helper = UserFactory(role="relative", last_name="张", first_name="伟")
    Certification.objects.create(pensioner=p, method="face_proxy", occurred_on=TODAY, helper=helper,
                                 helper_relationship="女儿")
    assert schedule_due(today=TODAY)["proxy_certified"] == 1
    assert "张伟（女儿）" in Message.objects.get().text


def test_an_invalid_phone_gets_no_reminder():
    PensionerFactory(valid_until=TODAY - dt.timedelta(days=31), status="warning", phone_invalid=True)
    assert schedule_due(today=TODAY)["warning_reminder"] == 0
