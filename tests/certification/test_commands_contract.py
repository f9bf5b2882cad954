"""DESIGN §4: each command prints one JSON object on the last line, with the exact keys."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from certification.services import certification_record
from tests.factories import PensionerFactory

pytestmark = pytest.mark.django_db


def last_json(name, *args) -> dict:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_show_pensioner_prints_the_contract_shape():
    p = PensionerFactory(valid_until=dt.date(2026, 9, 30))
    certification_record(pensioner=p, method="big_data", occurred_on=dt.date(2026, 6, 23), today=dt.date(2026, 7, 1),
                         source="hospital", evidence_ref="H-1")
    data = last_json("show_pensioner", p.id_number)
    assert set(data) == {"id_number", "name", "status", "valid_until", "suspended_since", "death_date",
                         "certifications", "back_pay_total", "overpayment_total", "fraud_alerts", "evidence"}
    assert data["valid_until"] == "2027-06-23"
    assert data["certifications"] == [{"method": "big_data", "occurred_on": "2026-06-23", "source": "hospital"}]
    assert (data["back_pay_total"], data["overpayment_total"], data["fraud_alerts"]) == ("0.00", "0.00", 0)


def test_show_pensioner_unknown_id_fails_non_zero():
    with pytest.raises(CommandError, match="未找到"):
        last_json("show_pensioner", "370202195001020011")


def test_seed_demo_creates_offices_people_and_the_promised_accounts():
    data = last_json("seed_demo", "--pensioners", "300", "--seed", "5")
    assert data["pensioners"] == 300
    roles = [a["role"] for a in data["accounts"]]
    assert roles.count("admin") >= 1
    staff = [a for a in data["accounts"] if a["role"] == "staff"]
    assert len({a["street_office"] for a in staff}) >= 2
    for account in data["accounts"]:
        assert set(account) >= {"role", "username", "password", "street_office"}


def test_seed_demo_is_deterministic_for_a_seed():
    from certification.models import Pensioner

    last_json("seed_demo", "--pensioners", "50", "--seed", "9")
    first = list(Pensioner.objects.order_by("id_number").values_list("id_number", "name", "monthly_amount"))
    Pensioner.objects.all().delete()
    last_json("seed_demo", "--pensioners", "50", "--seed", "9")
    again = list(Pensioner.objects.order_by("id_number").values_list("id_number", "name", "monthly_amount"))
    assert first == again


def test_run_nightly_prints_json_and_moves_statuses():
    from certification.models import Pensioner

    p = PensionerFactory(valid_until=dt.date(2026, 9, 30))
    data = last_json("run_nightly", "--today", "2026-10-01")
    # Matching runs the transitions as its last step; the explicit step then finds nothing.
    assert data["matching"]["entered_warning"] + data["transitions"]["entered_warning"] == 1
    assert Pensioner.objects.get(pk=p.pk).status == "warning"
    assert {"matching", "transitions", "reminders", "dashboard", "seconds"} <= set(data)


def test_run_nightly_rejects_a_malformed_date():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        last_json("run_nightly", "--today", "2026-13-01")
