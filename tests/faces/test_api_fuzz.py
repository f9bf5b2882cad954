"""Schemathesis on the face API only, signed in as a pensioner who has a reference and as a relative:
generated and mutated requests never get a 5xx, and positive ones conform to the schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from certification.accounts.tokens import api_token_issue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def unthrottled(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {k: "100000/min" for k in SimpleRateThrottle.THROTTLE_RATES})


def _runner(op, mode, headers, checks, base_url, seen):  # type: ignore[no-untyped-def]
    @given(case=op.as_strategy(generation_mode=mode))
    @hsettings(max_examples=15, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def run(case):  # type: ignore[no-untyped-def]
        response = case.call(base_url=base_url, headers=headers, timeout=60)
        seen.append((op.path, response.status_code))
        case.validate_response(response, checks=checks)

    return run


def test_the_face_api_never_answers_5xx(live_server, pensioner, pensioner_user, relative_user, enrol, unthrottled, settings):
    settings.FACE_PROXY_HELPER_PER_HOUR = 100000
    settings.FACE_PROXY_TARGET_PER_HOUR = 100000
    enrol(pensioner)
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    ops = [r.ok() for r in schema.get_all_operations() if "/faces/" in r.ok().path]
    assert len(ops) == 4  # sessions, prompt, frames, attempts
    failures = []
    seen: list[tuple[str, int]] = []
    for user in (pensioner_user, relative_user):
        headers = {"Authorization": f"Token {api_token_issue(user=user)}"}
        for op in ops:
            for mode, checks in [(GenerationMode.POSITIVE, [not_a_server_error, status_code_conformance,
                                                            content_type_conformance]),
                                 (GenerationMode.NEGATIVE, [not_a_server_error])]:
                run = _runner(op, mode, headers, checks, live_server.url, seen)
                try:
                    run()
                except Exception as exc:  # noqa: BLE001 - collect all operations' failures
                    if type(exc).__name__ != "Unsatisfiable":
                        failures.append(f"{op.label} [{user.role}, {mode.value}]: {str(exc)[:1200]}")
    assert not failures, "\n\n".join(failures)
    # The generated requests reached the views' own checks, not only authentication or parsing.
    codes = {code for _, code in seen}
    assert len(seen) >= 60 and codes & {201, 400, 404, 409}, sorted(codes)
