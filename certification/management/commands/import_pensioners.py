from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from certification.importers import RowError, pensioners_import
from certification.management.base import JsonCommand


class Command(JsonCommand):
    help = "Load the pensioner roster CSV from the payment system; bad rows go to an errors file."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("path")
        parser.add_argument("--encoding", choices=["utf-8", "gbk"], default=None)

    def run(self, **options: Any) -> dict[str, Any]:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        try:
            result = pensioners_import(path=path, encoding=options.get("encoding"))
        except (RowError, UnicodeDecodeError) as exc:
            raise CommandError(f"无法读取文件：{exc}") from None
        for line, reason in result.errors[:20]:
            self.stderr.write(f"第 {line} 行：{reason}")
        return result.as_contract()
