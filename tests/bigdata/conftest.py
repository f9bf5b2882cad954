"""Helpers for the big-data tests: feed files written the way partners send them."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command

from certification import idnumber


def make_id(n: int, birth: dt.date = dt.date(1948, 3, 1)) -> str:
    return idnumber.make("370202", birth, n)


def last_json(*args: str) -> dict:  # type: ignore[type-arg]
    """Run a management command; its last output line, the contract's JSON."""
    out = io.StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.fixture
def feed(tmp_path: Path) -> Callable[..., Path]:
    """Write a feed file: rows are (id_number, event_date, source_ref[, name]) or raw strings."""
    counter = {"n": 0}

    def write(rows: list[tuple[str, ...] | str], *, encoding: str = "utf-8", fmt: str = "csv",
              header: str | None = None, name: str | None = None) -> Path:
        counter["n"] += 1
        path = tmp_path / (name or f"feed{counter['n']}.{'jsonl' if fmt == 'jsonl' else 'csv'}")
        lines: list[str] = []
        if fmt == "csv":
            if header is None:
                widths = {len(r) for r in rows if not isinstance(r, str)}
                header = "id_number,event_date,source_ref" + (",name" if widths == {4} else "")
            lines.append(header)
            for r in rows:
                lines.append(r if isinstance(r, str) else ",".join(r))
        else:
            for r in rows:
                if isinstance(r, str):
                    lines.append(r)
                else:
                    keys = ["id_number", "event_date", "source_ref", "name"]
                    lines.append(json.dumps(dict(zip(keys, r, strict=False)), ensure_ascii=False))
        text = "\n".join(lines) + "\n"
        if encoding == "utf-8-sig":
            path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
        else:
            path.write_bytes(text.encode(encoding))
        return path

    return write


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.BIGDATA_LOCK_DIR = str(tmp_path / "locks")
