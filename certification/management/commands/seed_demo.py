from __future__ import annotations

import io
import json
from typing import Any

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError

from certification import rules
from certification.demo import seed, write_demo_feeds
from certification.management.base import JsonCommand


class Command(JsonCommand):
    help = "Build a demo city: Qingdao offices, pensioners, accounts and a few evidence feeds. Demo only."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--pensioners", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=1)

    def run(self, **options: Any) -> dict[str, Any]:
        if getattr(settings, "IS_PRODUCTION", False):
            raise CommandError("seed_demo 只用于演示环境，生产环境不创建演示账号")
        n = options["pensioners"]
        if n < 1:
            raise CommandError("--pensioners 必须大于 0")
        today = rules.today_local()
        result = seed(pensioners=n, seed=options["seed"], today=today, progress=lambda d, t: self.progress(d, t, "pensioners"))
        feeds = []
        if "import_evidence" in get_commands():
            for path, source in write_demo_feeds(directory=settings.VAR_DIR / "demo_feeds", seed=options["seed"], today=today):
                out = io.StringIO()
                call_command("import_evidence", str(path), "--source", source, stdout=out)
                feeds.append({"source": source, **json.loads(out.getvalue().strip().splitlines()[-1])})
        return {"pensioners": result["pensioners"], "accounts": result["accounts"], "feeds": feeds}
