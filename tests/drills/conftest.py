"""The CI copies of the reliability drills (scripts/drills): the same drill code on ~5,000 pensioners.

Each test calls the drill's own function (so the copy cannot drift from the script)
on scratch PostgreSQL databases named after pytest's test database
(`drill_<test db>_…`, dropped afterwards) and, where the drill needs a broker it can
stop or a Redis that never answers, a private redis-server / listener on a loopback
port of its own. Marked `services`: they skip on a bare laptop and fail under
REQUIRE_SERVICES=1 when PostgreSQL or Redis is missing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

DRILLS = Path(__file__).resolve().parents[2] / "scripts" / "drills"
CI_PENSIONERS = 5000


def _drill_pg() -> str:
    from django.db import connection

    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    auth = f"{user}:{s['PASSWORD']}@" if s.get("PASSWORD") else f"{user}@"
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}"


def _scratch_name(suffix: str) -> str:
    from django.db import connection

    # Not "test_…": the population generator refuses to fill a test database.
    return f"drill_{connection.settings_dict['NAME'].removeprefix('test_')}_{suffix}"[:63]


def _import_common():  # type: ignore[no-untyped-def]
    if str(DRILLS) not in sys.path:
        sys.path.insert(0, str(DRILLS))
    for name in [m for m in sys.modules if m == "common" or m.startswith("drill")]:
        del sys.modules[name]
    import common

    return common


@pytest.fixture(scope="session")
def drill_templates(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Two template databases made once per session, copied (CREATE DATABASE … TEMPLATE) by each CI copy
    instead of populating its own: `pop` (CI_PENSIONERS pensioners) and `match` (`pop` plus the
    hospital and death feeds imported, not yet matched: prepare_matching_db). Dropped at the end."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            yield None
            return
        mp = pytest.MonkeyPatch()
        mp.setenv("DRILL_PG", _drill_pg())
        if os.environ.get("REDIS_URL"):
            mp.setenv("DRILL_REDIS", os.environ["REDIS_URL"])
        common = _import_common()
        names = {"pop": _scratch_name("tpl_pop"), "match": _scratch_name("tpl_match")}
        try:
            common.recreate_db(names["pop"])
            common.populate(common.db_url(names["pop"]), CI_PENSIONERS)
            common.recreate_db(names["match"], template=names["pop"])
            common.import_feeds(names["match"], CI_PENSIONERS, CI_PENSIONERS * 3 // 2)
            yield names
        finally:
            for n in names.values():
                common.drop_db(n)
            mp.undo()


@pytest.fixture
def drills(require_postgres, redis_url, monkeypatch):  # type: ignore[no-untyped-def]
    """The drills' `common` module, pointed at the test database's server and this test's Redis db."""
    monkeypatch.setenv("DRILL_PG", _drill_pg())
    monkeypatch.setenv("DRILL_REDIS", redis_url)
    monkeypatch.syspath_prepend(str(DRILLS))
    return _import_common()


@pytest.fixture
def scratch_db(drills):  # type: ignore[no-untyped-def]
    """Names of scratch databases for this test; every one made is dropped at the end."""

    made: list[str] = []

    def name(suffix: str) -> str:
        db = _scratch_name(suffix)
        made.append(db)
        return db

    yield name
    for db in made:
        drills.drop_db(db)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
