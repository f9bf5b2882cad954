"""The CI copies of the reliability drills (scripts/drills): the same drill code on ~5,000 pensioners.

Each test calls the drill's own function (so the copy cannot drift from the script)
on scratch PostgreSQL databases named after pytest's test database
(`drill_<test db>_…`, dropped afterwards) and, where the drill needs a broker it can
stop or a Redis that never answers, a private redis-server / listener on a loopback
port of its own. Marked `services`: they skip on a bare laptop and fail under
REQUIRE_SERVICES=1 when PostgreSQL or Redis is missing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

DRILLS = Path(__file__).resolve().parents[2] / "scripts" / "drills"
CI_PENSIONERS = 5000


@pytest.fixture
def drills(require_postgres, redis_url, monkeypatch):  # type: ignore[no-untyped-def]
    """The drills' `common` module, pointed at the test database's server and this test's Redis db."""
    from django.db import connection

    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    auth = f"{user}:{s['PASSWORD']}@" if s.get("PASSWORD") else f"{user}@"
    monkeypatch.setenv("DRILL_PG", f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}")
    monkeypatch.setenv("DRILL_REDIS", redis_url)
    monkeypatch.syspath_prepend(str(DRILLS))
    for name in [m for m in sys.modules if m == "common" or m.startswith("drill")]:
        del sys.modules[name]
    import common

    return common


@pytest.fixture
def scratch_db(drills):  # type: ignore[no-untyped-def]
    """Names of scratch databases for this test; every one made is dropped at the end."""
    from django.db import connection

    made: list[str] = []

    def name(suffix: str) -> str:
        # Not "test_…": the population generator refuses to fill a test database.
        db = f"drill_{connection.settings_dict['NAME'].removeprefix('test_')}_{suffix}"[:63]
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
