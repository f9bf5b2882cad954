"""Schemathesis against the real OpenAPI schema on a live local server: no 5xx anywhere.

Every operation in /api/schema/ is exercised with generated positive data (then the
stateless conformance checks: status code documented, content type, response
schema) and generated negative data (then: no server error), both as an
administrator and anonymously. Examples per operation are capped so the whole
run stays within a couple of minutes in CI.
"""

from __future__ import annotations

import os
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from certification.accounts.tokens import api_token_issue
from certification.dashboards.services import snapshot_build
from certification.models import Role, StreetOffice
from tests.factories import PensionerFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
BUDGET_SECONDS = 240
POSITIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
NEGATIVE_CHECKS = [not_a_server_error]


@pytest.fixture
def unthrottled(monkeypatch):  # type: ignore[no-untyped-def]
    """The live server shares this process: lift the rate limits so generated cases reach the views."""
    rates = {k: "100000/min" for k in SimpleRateThrottle.THROTTLE_RATES}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


@pytest.fixture
def admin_token(settings):  # type: ignore[no-untyped-def]
    settings.AXES_ENABLED = False
    office = StreetOffice.objects.get(name="八大关街道")
    PensionerFactory.create_batch(5, street_office=office)
    snapshot_build(today=__import__("datetime").date(2026, 11, 20))
    admin = UserFactory(role=Role.ADMIN, username="api-admin")
    UserFactory(role=Role.STAFF, username="api-staff", offices=[office])
    return api_token_issue(user=admin)


def _run(operation, mode, headers, base_url, checks) -> None:  # type: ignore[no-untyped-def]
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case):  # type: ignore[no-untyped-def]
        case.call_and_validate(base_url=base_url, headers=headers, checks=checks, timeout=30)

    run()


def test_no_operation_answers_5xx_to_generated_requests(live_server, admin_token, unthrottled):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 4
    base_url = live_server.url
    failures: list[str] = []
    started = time.monotonic()
    for op in operations:
        for who, headers in [("admin", {"Authorization": f"Token {admin_token}"}), ("anonymous", {})]:
            for mode, checks in [(GenerationMode.POSITIVE, POSITIVE_CHECKS), (GenerationMode.NEGATIVE, NEGATIVE_CHECKS)]:
                try:
                    _run(op, mode, headers, base_url, checks)
                except Unsatisfiable:
                    # Nothing to make invalid (no parameters, no body): negative mode has no cases.
                    assert mode == GenerationMode.NEGATIVE, op.label
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as exc:  # noqa: BLE001 - collect every operation's failure (failure groups too)
                    failures.append(f"{op.label} [{who}, {mode.value}]: {str(exc)[:1500]}")
    elapsed = time.monotonic() - started
    assert not failures, "\n\n".join(failures)
    assert elapsed < BUDGET_SECONDS, f"schemathesis run took {elapsed:.0f}s"
