"""English is available on every page; Simplified Chinese stays the default (DESIGN §4).

The msgids are the Chinese texts, so an untranslated string silently shows Chinese
on an English page. The catalogue tests below catch that for every string, not
just the ones the page tests look at.
"""

from __future__ import annotations

import ast
import datetime as dt
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from certification.models import Role, User
from certification.services import certification_record
from tests.factories import PensionerFactory, UserFactory, office

PO = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|%d|\{\w+\}")


@pytest.fixture(autouse=True)
def _default_language_afterwards():  # type: ignore[no-untyped-def]
    """LocaleMiddleware activates English for the thread and never deactivates it: without
    this, tests that run after these would build their non-request texts in English."""
    yield
    translation.deactivate()


def english(client: Client) -> Client:
    """Switch the client to English the way the header button does."""
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    return client


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def pensioner_client(client: Client) -> tuple[Client, str]:
    p = PensionerFactory(name="王秀英")
    client.force_login(
        User.objects.create(username="p-" + p.id_number, role=Role.PENSIONER, pensioner=p)
    )
    return client, p.name


def staff_client(client: Client) -> Client:
    client.force_login(UserFactory(offices=[office("八大关街道")]))
    return client


# ---- pages -----------------------------------------------------------------


@pytest.mark.django_db
def test_landing_page_is_chinese_by_default_and_english_after_switching(client):
    html = page(client, "/")
    assert '<html lang="zh-CN">' in html
    assert "我是退休人员，查看我的认证" in html
    assert "I receive a pension" not in html

    html = page(english(client), "/")
    assert '<html lang="en">' in html
    assert "I receive a pension: see my certification" in html
    assert "I am a relative: certify a family member" in html
    assert "Staff sign-in" in html
    assert "我是退休人员" not in html


@pytest.mark.django_db
def test_a_browser_set_to_english_still_opens_in_chinese_until_the_person_switches():
    browser = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = page(browser, "/")
    assert '<html lang="zh-CN">' in html
    assert "我是退休人员，查看我的认证" in html

    html = page(english(browser), "/")
    assert '<html lang="en">' in html
    assert "I receive a pension: see my certification" in html


@pytest.mark.django_db
def test_staff_sign_in_page_is_in_english_after_switching(client):
    assert "工作人员登录" in page(client, "/login/")
    html = page(english(client), "/login/")
    assert "Staff sign-in" in html
    assert "Username" in html and "Password" in html
    assert "After 5 wrong passwords in a row, the account is locked for 1 hour." in html
    assert "工作人员登录" not in html


@pytest.mark.django_db
def test_pensioner_sign_in_page_is_in_english_after_switching(client):
    assert "退休人员登录" in page(client, "/login/pensioner/")
    html = page(english(client), "/login/pensioner/")
    assert "Pensioner sign-in" in html
    assert "Enter your ID number" in html
    assert "Send me a code" in html
    assert "退休人员登录" not in html


@pytest.mark.django_db
def test_pensioner_home_is_chinese_by_default(client):
    client, name = pensioner_client(client)
    html = page(client, "/me/")
    assert f"{name}，您好" in html
    assert "认证状态" in html and "认证有效" in html


@pytest.mark.django_db
def test_pensioner_home_is_in_english_after_switching(client):
    client, name = pensioner_client(english(client))
    html = page(client, "/me/")
    assert f"Hello, {name}" in html
    assert "Certification status" in html
    assert "Certified until" in html
    assert "All ways to certify" in html
    assert "Book a home visit" in html
    assert "认证状态" not in html


@pytest.mark.django_db
def test_pensioner_home_in_english_shows_dates_methods_sources_and_next_step_in_english(client):
    client, _name = pensioner_client(english(client))
    p = User.objects.get(role=Role.PENSIONER).pensioner
    certification_record(
        pensioner=p,
        method="big_data",
        occurred_on=dt.date(2026, 6, 23),
        today=dt.date(2026, 6, 24),
        source="hospital",
        evidence_ref="H-1",
    )
    html = page(client, "/me/")
    assert "23 June 2027" in html  # valid until, in an English date format
    assert "2027年" not in html
    assert "Automatic" in html  # the method label (a model choice)
    assert "Hospital admission or discharge" in html  # the source name (stored Chinese)
    assert "You do not need to do anything." in html  # the next step (from the view)


@pytest.mark.django_db
def test_staff_queue_is_chinese_by_default(client):
    html = page(staff_client(client), "/staff/queue/")
    assert "提醒名单：待认证人员" in html


@pytest.mark.django_db
def test_staff_queue_is_in_english_after_switching(client):
    PensionerFactory(status="warning", valid_until="2020-01-01")
    html = page(staff_client(english(client)), "/staff/queue/")
    assert "Reminder list: people to certify" in html
    assert "Filter" in html and "Export to Excel" in html
    assert "Days left" in html
    assert "提醒名单：待认证人员" not in html


@pytest.mark.django_db
def test_switching_back_to_chinese_shows_chinese_again(client):
    english(client)
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    assert "我是退休人员，查看我的认证" in page(client, "/")


# ---- the catalogue -----------------------------------------------------------


def po_entries() -> list[dict[str, object]]:
    """Parse django.po by hand (no polib in the project): live entries only, header excluded."""
    entries: list[dict[str, object]] = []
    current: dict[str, object] = {"flags": ""}
    key: str | None = None

    def finish() -> None:
        nonlocal current, key
        if "msgid" in current and current["msgid"] != "":
            entries.append(current)
        current, key = {"flags": ""}, None

    for line in PO.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            finish()
        elif line.startswith("#~"):  # obsolete entry kept by msgmerge
            continue
        elif line.startswith("#,"):
            current["flags"] = str(current["flags"]) + line[2:]
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert key is not None
            current[key] = str(current[key]) + ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            current[key] = ast.literal_eval(value)
    return entries


def translations(entry: dict[str, object]) -> list[str]:
    return [str(v) for k, v in entry.items() if k == "msgstr" or k.startswith("msgstr[")]


def test_every_string_in_the_catalogue_has_an_english_translation():
    entries = po_entries()
    assert len(entries) > 300  # the whole portal, not an empty file
    untranslated = [e["msgid"] for e in entries if not all(s.strip() for s in translations(e))]
    assert untranslated == [], "run makemessages, translate these, then compilemessages"


def test_no_catalogue_entry_is_left_fuzzy():
    fuzzy = [e["msgid"] for e in po_entries() if "fuzzy" in str(e["flags"])]
    assert fuzzy == []
    header = PO.read_text(encoding="utf-8").split('msgid ""', 1)[0]
    assert "#, fuzzy" not in header  # msgfmt drops a fuzzy header, and with it Plural-Forms


def test_translations_keep_every_placeholder_of_the_chinese_text():
    for e in po_entries():
        wanted = sorted(PLACEHOLDER.findall(str(e["msgid"])))
        for s in translations(e):
            assert sorted(PLACEHOLDER.findall(s)) == wanted, e["msgid"]


def test_translations_contain_no_chinese_characters():
    han = re.compile(r"[\u4e00-\u9fff]")
    leftover = [(e["msgid"], s) for e in po_entries() for s in translations(e) if han.search(s)]
    assert leftover == []


def test_the_committed_mo_file_matches_the_po_file():
    """CI machines may lack gettext, so the compiled .mo is committed; it must be current."""
    with MO.open("rb") as fh:
        mo = gettext.GNUTranslations(fh)
    stale = []
    for e in po_entries():
        msgid = str(e["msgid"])
        if "msgid_plural" in e:
            got = [mo.ngettext(msgid, str(e["msgid_plural"]), n) for n in (1, 2)]
            want = [str(e["msgstr[0]"]), str(e["msgstr[1]"])]
        elif "msgctxt" in e:
            got, want = [mo.pgettext(str(e["msgctxt"]), msgid)], [str(e["msgstr"])]
        else:
            got, want = [mo.gettext(msgid)], [str(e["msgstr"])]
        if got != want:
            stale.append(msgid)
    assert stale == [], "run: manage.py compilemessages --ignore=.venv"
