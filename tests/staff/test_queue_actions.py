"""Every staff action: the right certification or status change, and an audit row."""

import datetime as dt

import pytest
from django.urls import reverse

from certification.models import AuditLog, Certification, Overpayment, StatusChange
from certification.staff import services
from certification.staff.models import ContactAttempt, DeathReport, HomeVisit, QueueState
from notifications.models import Message
from tests.staff.helpers import TODAY, suspended_person, two_offices, warning_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(time_machine):
    time_machine.move_to("2026-11-30 10:00 +08:00", tick=False)
    a, b, staff_a, staff_a2, staff_b, admin = two_offices()
    return dict(a=a, staff=staff_a, staff2=staff_a2, staff_b=staff_b, admin=admin)


def _audit(p, action):
    return AuditLog.objects.filter(pensioner=p, action=action)


def test_call_outcome_is_recorded_shown_as_last_contact_and_audited(client, w):
    p = warning_person(w["a"])
    client.force_login(w["staff"])
    resp = client.post(reverse("staff:call_outcome", args=[p.public_key]), {"outcome": "hospitalised", "note": "市立医院"})
    assert resp.status_code == 302
    assert ContactAttempt.objects.get(pensioner=p).outcome == "hospitalised"
    assert QueueState.objects.get(pensioner=p).last_outcome == "hospitalised"
    assert _audit(p, "contact_record").get().actor == w["staff"]
    row = client.get(reverse("staff:queue")).context["rows"][0]
    assert row.last_outcome_label == "住院"


def test_wrong_number_marks_the_phone_invalid(w):
    p = warning_person(w["a"])
    services.contact_record(pensioner=p, staff=w["staff"], outcome="wrong_number")
    p.refresh_from_db()
    assert p.phone_invalid is True
    assert _audit(p, "phone_invalid").exists() and _audit(p, "contact_record").exists()


def test_send_sms_now_puts_one_row_in_the_outbox_and_audits_it(client, w, django_capture_on_commit_callbacks,
                                                               sent_sms):
    p = warning_person(w["a"])
    client.force_login(w["staff"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("staff:sms_now", args=[p.public_key]), {"text": "请尽快认证"})
    msg = Message.objects.get(pensioner=p)
    assert msg.template == "staff_message" and msg.status == "sent"
    assert sent_sms()[0]["text"] == "【青岛人社】请尽快认证"
    assert _audit(p, "sms_send_now").get().detail["message_id"] == msg.pk


def test_home_visit_schedule_then_certified_in_person_restores_active(client, w):
    p = warning_person(w["a"])
    client.force_login(w["staff"])
    resp = client.post(reverse("staff:home_visit_schedule", args=[p.public_key]),
                       {"visit_on": "2026-11-30", "assignee": w["staff2"].pk})
    assert resp.status_code == 302
    visit = HomeVisit.objects.get(pensioner=p)
    assert (visit.assignee, visit.outcome) == (w["staff2"], "scheduled")
    assert Message.objects.get(template="home_visit_confirmed").text.count("2026年11月30日") == 1
    resp = client.post(reverse("staff:home_visit_outcome", args=[visit.pk]), {"outcome": "certified"})
    assert resp.status_code == 302
    p.refresh_from_db()
    cert = Certification.objects.get(pensioner=p)
    assert (cert.method, cert.occurred_on, cert.recorded_by) == ("home_visit", TODAY, w["staff"])
    assert p.status == "active" and p.valid_until == dt.date(2027, 11, 30)
    assert StatusChange.objects.filter(pensioner=p, old_status="warning", new_status="active").exists()
    assert _audit(p, "home_visit_schedule").exists() and _audit(p, "home_visit_record_outcome").exists()
    visit.refresh_from_db()
    assert visit.certification == cert


def test_a_home_visit_with_nobody_home_certifies_nothing(w):
    p = warning_person(w["a"])
    visit = services.home_visit_schedule(pensioner=p, staff=w["staff"], visit_on=TODAY, assignee=w["staff"])
    services.home_visit_record_outcome(visit=visit, staff=w["staff"], outcome="not_home", note="敲门无人")
    p.refresh_from_db()
    assert p.status == "warning" and not p.certifications.exists()


def test_counter_certification_of_a_suspended_person_restores_with_back_pay(client, w):
    p = suspended_person(w["a"])
    client.force_login(w["staff"])
    resp = client.post(reverse("staff:counter_certification", args=[p.public_key]),
                       {"occurred_on": "2026-11-30", "id_checked": "on"})
    assert resp.status_code == 302
    p.refresh_from_db()
    assert p.status == "active" and p.suspended_since is None
    assert p.certifications.get().method == "counter"
    assert p.back_pays.get().total == p.monthly_amount  # suspended since 2 Oct: only 1 November was missed
    assert _audit(p, "certification_record").get().actor == w["staff"]


def test_counter_certification_needs_the_id_card_checked(client, w):
    p = warning_person(w["a"])
    client.force_login(w["staff"])
    resp = client.post(reverse("staff:counter_certification", args=[p.public_key]), {"occurred_on": "2026-11-30"})
    assert resp.status_code == 400
    assert not p.certifications.exists()


def test_video_certification_names_the_relative(w):
    p = warning_person(w["a"])
    services.video_certify(pensioner=p, staff=w["staff"], occurred_on=TODAY, relative_name="李明",
                           relationship="儿子")
    cert = p.certifications.get()
    assert (cert.method, cert.helper_relationship) == ("video", "儿子")
    assert "李明" in cert.note
    p.refresh_from_db()
    assert p.status == "active"


def test_a_death_report_changes_nothing_until_a_second_person_confirms(client, w):
    p = warning_person(w["a"])
    client.force_login(w["staff"])
    client.post(reverse("staff:death_report", args=[p.public_key]),
                {"death_date": "2026-09-15", "evidence_ref": "死亡证明-0042"})
    report = DeathReport.objects.get(pensioner=p)
    p.refresh_from_db()
    assert (report.state, p.status) == ("pending", "warning")
    # The reporter cannot confirm their own report.
    client.post(reverse("staff:death_decide", args=[report.pk]), {"decision": "confirm"})
    p.refresh_from_db()
    assert p.status == "warning"
    # A second staff member of the office can.
    client.force_login(w["staff2"])
    client.post(reverse("staff:death_decide", args=[report.pk]), {"decision": "confirm"})
    p.refresh_from_db()
    report.refresh_from_db()
    assert (p.status, p.death_date, report.state, report.confirmed_by) == (
        "deceased", dt.date(2026, 9, 15), "confirmed", w["staff2"])
    # Paid for October and November after a September death: an overpayment to recover.
    assert Overpayment.objects.get(pensioner=p).total == p.monthly_amount * 2
    assert _audit(p, "death_report").exists() and _audit(p, "death_confirm").exists()
    assert _audit(p, "pensioner_mark_deceased").get().actor == w["staff2"]


def test_an_administrator_may_confirm_a_death_report(w):
    p = warning_person(w["a"])
    report = services.death_report(pensioner=p, staff=w["staff"], death_date=TODAY, evidence_ref="X")
    services.death_confirm(report=report, staff=w["admin"])
    p.refresh_from_db()
    assert p.status == "deceased"


def test_opening_the_full_record_shows_the_unmasked_id_and_is_audited(client, w):
    p = warning_person(w["a"])
    client.force_login(w["staff"])
    resp = client.get(reverse("staff:pensioner", args=[p.public_key]))
    assert p.id_number in resp.content.decode() and p.phone in resp.content.decode()
    row = _audit(p, "pensioner_record_open").get()
    assert row.actor == w["staff"] and row.at is not None
    # The list stays masked.
    queue = client.get(reverse("staff:queue")).content.decode()
    assert p.id_number not in queue and p.masked_id in queue and p.phone not in queue


def test_a_rejected_death_report_leaves_the_person_as_they_were(client, w):
    p = warning_person(w["a"])
    report = services.death_report(pensioner=p, staff=w["staff"], death_date=TODAY, evidence_ref="X-1")
    client.force_login(w["staff2"])
    client.post(reverse("staff:death_decide", args=[report.pk]), {"decision": "reject"})
    report.refresh_from_db()
    p.refresh_from_db()
    assert (report.state, report.confirmed_by, p.status) == ("rejected", w["staff2"], "warning")
    assert _audit(p, "death_reject").exists()
    # A new report can be filed after a rejection.
    services.death_report(pensioner=p, staff=w["staff"], death_date=TODAY, evidence_ref="X-2")
