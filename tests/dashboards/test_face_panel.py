"""The face-check panel: pass rate and failure reasons by age band equal a direct count."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from django.urls import reverse
from django.utils import timezone

from certification import rules
from certification.dashboards.models import Figure, Level
from certification.dashboards.services import age_band, face_source_ready, snapshot_build
from certification.faces.models import Consent, FaceAttempt, FaceSession
from certification.models import Role
from tests.factories import PensionerFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 20)
REASONS = ["no_match", "no_liveness", "no_face", "multiple_faces"]


def _attempt(pensioner, user, n: int, day: dt.date, passed: bool | None, reason: str) -> FaceAttempt:  # type: ignore[no-untyped-def]
    consent = Consent.objects.create(user=user, pensioner=pensioner, mode="self", text_version="v1")
    session = FaceSession.objects.create(nonce=f"n{n}", user=user, pensioner=pensioner, consent=consent, mode="self",
                                         challenge=["blink"], expires_at=timezone.now())
    return FaceAttempt.objects.create(session=session, pensioner=pensioner, user=user, mode="self",
                                      state="done" if passed is not None else "pending", passed=passed,
                                      reason="" if passed else reason, occurred_on=day)


@pytest.fixture
def attempts():  # type: ignore[no-untyped-def]
    rnd = random.Random(3)
    user = UserFactory(role=Role.PENSIONER)
    people = [PensionerFactory(birth_date=dt.date(y, 6, 1)) for y in (1930, 1938, 1944, 1950, 1955, 1960, 1966)]
    n = 0
    for p in people:
        for _ in range(rnd.randint(2, 6)):
            n += 1
            day = TODAY - dt.timedelta(days=rnd.randint(0, 420))  # some outside the 12-month window
            passed = rnd.choice([True, True, False, None])  # None: still pending, not counted
            _attempt(p, user, n, day, passed, rnd.choice(REASONS))
    snapshot_build(today=TODAY)


def test_face_panel_figures_equal_a_direct_count_by_age_band(attempts):
    assert face_source_ready()
    start = rules.add_months(TODAY, -12)
    expected: Counter[str] = Counter()
    for a in FaceAttempt.objects.select_related("pensioner"):
        if a.passed is None or not (start < a.occurred_on <= TODAY):
            continue
        band = age_band(rules.age_on(a.pensioner.birth_date, a.occurred_on))
        if band is None:
            continue
        expected[f"{band}|attempts"] += 1
        expected[f"{band}|passed" if a.passed else f"{band}|reason:{a.reason}"] += 1
    stored = {f.key: int(f.value) for f in Figure.objects.filter(level=Level.CITY, metric="face")}
    assert stored == dict(expected)
    assert {k.split("|")[0] for k in stored} >= {"60-69", "70-79", "80-89", "90+"}


def test_face_panel_shows_reasons_in_chinese(attempts, client):
    client.force_login(UserFactory(role=Role.ADMIN))
    html = client.get(reverse("dashboards:city")).content.decode()
    assert "刷脸认证模块尚未上线" not in html
    assert "未通过：不是本人" in html
