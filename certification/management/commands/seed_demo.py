from __future__ import annotations

import io
import json
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError

from certification import rules
from certification.demo import DEMO_FACE, seed, write_demo_feeds
from certification.management.base import JsonCommand

FACES_DIR = settings.BASE_DIR / "tests" / "fixtures" / "faces"


class Command(JsonCommand):
    help = ("Build a demo city: Qingdao offices, pensioners in every status, a year of evidence feeds, "
            "demo faces and accounts. Demo only; running it again makes no second city.")

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
        result = seed(pensioners=n, seed=options["seed"], today=today,
                      progress=lambda d, t: self.progress(d, t, "pensioners"))
        plan = result.pop("plan")
        feeds = []
        if "import_evidence" in get_commands():
            for path, source in write_demo_feeds(directory=settings.VAR_DIR / "demo_feeds", seed=options["seed"],
                                                 plan=plan):
                feeds.append({"source": source, **self._call("import_evidence", str(path), "--source", source)})
        faces = self._enrol_faces(plan)
        notes = [
            "演示数据，仅用于演示：生产环境（config.settings.production）拒绝运行 seed_demo。",
            "退休人员和亲属用短信验证码登录；验证码由控制台短信通道打印在本窗口。",
            "状态在 make demo 运行 run_nightly（比对 + 状态转换）之后生效：约 95% 的人被大数据静默认证。",
        ]
        if not getattr(settings, "OTP_REQUIRED", False):
            notes.append("工作人员和管理员的二次验证（TOTP）在演示中关闭（OTP_REQUIRED=0）；生产环境请设 OTP_REQUIRED=1。")
        if faces:
            notes.append(f"已登记人脸的演示人员用的是项目测试照片 tests/fixtures/faces/{DEMO_FACE}；"
                         "用真实摄像头会判为「不是本人」，可以体验失败后的其他认证方式。")
        return {"pensioners": result["pensioners"], "created": result["created"], "accounts": result["accounts"],
                "feeds": feeds, "faces": faces, "notes": notes}

    def _call(self, name: str, *args: str) -> dict[str, Any]:
        out = io.StringIO()
        call_command(name, *args, stdout=out)
        return json.loads(out.getvalue().strip().splitlines()[-1])

    def _enrol_faces(self, plan) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
        """Reference faces from the project's own test photos for the personas that have one (once)."""
        if not apps.is_installed("certification.faces") or "enroll_face" not in get_commands():
            return []
        photo = FACES_DIR / DEMO_FACE
        if not photo.exists():
            self.stderr.write(f"no demo face photo at {photo}: face personas have no reference")
            return []
        enrolled = []
        for persona, p in plan.personas:
            if not persona.face:
                continue
            if hasattr(p, "reference_face"):
                enrolled.append({"id_number": p.id_number, "name": p.name, "enrolled": "already"})
                continue
            out = self._call("enroll_face", p.id_number, str(photo))
            enrolled.append({"id_number": p.id_number, "name": p.name, "enrolled": bool(out.get("enrolled"))})
        return enrolled
