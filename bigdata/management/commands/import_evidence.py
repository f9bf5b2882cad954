"""import_evidence PATH --source CODE [--encoding utf-8|gbk] (DESIGN §4)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from bigdata.parsing import FeedFormatError
from bigdata.services import SourceUnavailable, evidence_import, source_get
from certification.management.base import JsonCommand


class Command(JsonCommand):
    help = "Import one evidence feed (CSV or JSON Lines; UTF-8, UTF-8 with BOM or GBK)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("path")
        parser.add_argument("--source", required=True, help="source code, e.g. hospital")
        parser.add_argument("--encoding", choices=["utf-8", "gbk"], default=None,
                            help="default: detected (UTF-8 with or without BOM, else GBK)")

    def run(self, **options: Any) -> dict[str, Any]:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        try:
            source = source_get(options["source"])
            result = evidence_import(path=path, source=source, encoding=options.get("encoding"),
                                     progress=self._rows_read if sys.stderr.isatty() else None)
        except (SourceUnavailable, FeedFormatError) as exc:
            raise CommandError(str(exc)) from None
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        return result.as_json()

    def _rows_read(self, rows: int) -> None:
        # The total is unknown while streaming: a running count, not a bar.
        sys.stderr.write(f"\r已读取 {rows:,} 行")
        sys.stderr.flush()
