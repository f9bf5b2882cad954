"""Staff of office A never see office B's people: the queue leaves them out, every page is a 404."""

import pytest
from django.urls import reverse

from certification.models import Community
from certification.staff import services
from tests.staff.helpers import TODAY, suspended_person, two_offices, warning_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(time_machine):
    time_machine.move_to("2026-11-30 10:00 +08:00", tick=False)
    a, b, staff_a, staff_a2, staff_b, admin = two_offices()
    mine = warning_person(a, name="本街道甲")
    theirs = warning_person(b, name="外街道乙")
    visit = services.home_visit_schedule(pensioner=theirs, staff=staff_b, visit_on=TODAY, assignee=staff_b)
    report = services.death_report(pensioner=theirs, staff=staff_b, death_date=TODAY, evidence_ref="D-1")
    return dict(a=a, b=b, staff_a=staff_a, admin=admin, mine=mine, theirs=theirs, visit=visit, report=report)


def _pages(w):
    t = w["theirs"]
    return [
        ("get", reverse("staff:pensioner", args=[t.public_key])),
        ("post", reverse("staff:call_outcome", args=[t.public_key])),
        ("post", reverse("staff:sms_now", args=[t.public_key])),
        ("post", reverse("staff:home_visit_schedule", args=[t.public_key])),
        ("post", reverse("staff:counter_certification", args=[t.public_key])),
        ("post", reverse("staff:video_certification", args=[t.public_key])),
        ("post", reverse("staff:death_report", args=[t.public_key])),
        ("post", reverse("staff:home_visit_outcome", args=[w["visit"].pk])),
        ("post", reverse("staff:death_decide", args=[w["report"].pk])),
    ]


def test_every_staff_page_about_another_offices_pensioner_is_404(client, world):
    client.force_login(world["staff_a"])
    for method, url in _pages(world):
        resp = getattr(client, method)(url, {"outcome": "reached", "text": "x", "occurred_on": "2026-11-30",
                                              "id_checked": "on", "relative_name": "a", "relationship": "b",
                                              "death_date": "2026-11-30", "evidence_ref": "e",
                                              "visit_on": "2026-12-01", "assignee": world["staff_a"].pk})
        assert resp.status_code == 404, (method, url, resp.status_code)
    theirs = world["theirs"]
    theirs.refresh_from_db()
    assert theirs.status == "warning"
    assert not theirs.contacts.exists() and not theirs.certifications.exists()


def test_the_queue_never_lists_another_offices_people(client, world):
    for i in range(3):
        warning_person(world["b"], name=f"外街道{i}")
    suspended_person(world["b"], name="外街道暂停")
    suspended_person(world["a"], name="本街道暂停")
    client.force_login(world["staff_a"])
    resp = client.get(reverse("staff:queue"))
    names = [r.pensioner.name for r in resp.context["rows"]]
    assert sorted(names) == ["本街道暂停", "本街道甲"]
    assert resp.context["page"].paginator.count == 2
    assert "外街道" not in resp.content.decode()
    # Even a hand-made filter for the other office's id or community finds nobody.
    other_community = Community.objects.filter(street_office=world["b"]).first()
    for query in ({"office": world["b"].pk}, {"community": other_community.pk if other_community else 999}):
        resp = client.get(reverse("staff:queue"), query)
        assert all(r.pensioner.street_office_id == world["a"].pk for r in resp.context["rows"])


def test_an_administrator_sees_every_office(client, world):
    client.force_login(world["admin"])
    resp = client.get(reverse("staff:queue"))
    assert {r.pensioner.name for r in resp.context["rows"]} == {"本街道甲", "外街道乙"}
    assert client.get(reverse("staff:pensioner", args=[world["theirs"].public_key])).status_code == 200


def test_pensioners_and_relatives_cannot_open_staff_pages(client, world):
    from tests.factories import UserFactory

    relative = UserFactory(role="relative")
    client.force_login(relative)
    assert client.get(reverse("staff:queue")).status_code == 403
    assert client.get(reverse("staff:pensioner", args=[world["mine"].public_key])).status_code == 403
