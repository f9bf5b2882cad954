"""Work a page starts reaches the broker through one bounded publish (notifications.services.publish_once):
with Redis REFUSING connections and with Redis GONE (a listener that accepts and never answers), each
publish returns within 2 s (docs/reliability.md, drill 10) and nothing is lost: the outbox row stays
queued, a bulk ID-photo enrolment is failed with a reason to start it again, a batch the admin's
"重新排队导入" action took is failed again with its reason (before: `.delay()`, kombu's retries).

Each case runs in a process of its own whose broker and cache point at the dead Redis (the settings
are read at start-up), on this test's database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from bigdata.models import EvidenceBatch
from bigdata.services import source_get
from certification.faces.models import BulkEnrolment
from notifications.models import Message

from .conftest import free_port

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
BOUND = 2.0

PAGES = """
import json, time, django
django.setup()
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib import admin
from django.db import transaction
from django.test import RequestFactory
from bigdata.models import EvidenceBatch
from certification.faces.services import bulk_enrolment_start
from certification.models import User
from notifications.services import outbox_enqueue

def timed(fn):
    t = time.monotonic()
    with transaction.atomic():  # the page's transaction: the publish runs on commit
        out = fn()
    return out, round(time.monotonic() - t, 3)

out = {}
msg, out["outbox"] = timed(lambda: outbox_enqueue(phone="13900000001", template="staff_message",
                                                   context={"text": "有界"}, dedup_key="bounded:%(case)s"))
out["message"] = msg.pk
run, out["bulk"] = timed(lambda: bulk_enrolment_start(folder="photos"))
out["run"] = run.pk
request = RequestFactory().post("/admin/")
request.user = User.objects.get(username="bounded-admin")
request.session, request._messages = {}, None
request._messages = FallbackStorage(request)
model_admin = admin.site._registry[EvidenceBatch]
_, out["reprocess"] = timed(lambda: model_admin.reprocess(request, EvidenceBatch.objects.filter(pk=%(batch)d)))
print(json.dumps(out))
"""


def _env(broker: str, import_root: Path) -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(DATABASE_URL=url, REDIS_URL=broker, CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND="cache+memory://",
               CELERY_TASK_ALWAYS_EAGER="0", DJANGO_SETTINGS_MODULE="config.settings", SMS_TRANSPORT="file",
               SMS_FILE_PATH=str(import_root.parent / "sms.jsonl"), FACE_IMPORT_ROOT=str(import_root),
               SMS_QUIET_START_HOUR="0", SMS_QUIET_END_HOUR="0", PYTHONPATH=str(ROOT))
    return env


@pytest.mark.parametrize("case", ["refused", "gone"])
def test_each_page_publish_returns_within_two_seconds_and_its_work_waits(drills, case, tmp_path):
    from certification.models import Role, User

    User.objects.create_user("bounded-admin", role=Role.ADMIN, password="x-Bounded-42", is_staff=True,
                             is_superuser=True)
    batch = EvidenceBatch.objects.create(source=source_get("hospital"), file="feeds/x.csv",
                                         status=EvidenceBatch.Status.FAILED, failure="earlier")
    (tmp_path / "import" / "photos").mkdir(parents=True)
    hole = None
    if case == "refused":
        broker = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once
    else:
        port = free_port()
        hole = drills.blackhole_start(port, lifetime=120)
        broker = f"redis://127.0.0.1:{port}/0"
    try:
        proc = subprocess.run([sys.executable, "-c", PAGES % {"case": case, "batch": batch.pk}], cwd=ROOT,
                              env=_env(broker, tmp_path / "import"), capture_output=True, text=True, timeout=120)
    finally:
        if hole is not None:
            drills.stop(hole)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    for page in ("outbox", "bulk", "reprocess"):
        assert out[page] <= BOUND, (case, page, out)
    assert "not queued" in proc.stderr  # the broker really was unreachable
    assert Message.objects.get(pk=out["message"]).status == Message.Status.QUEUED  # the drain sends it later
    run = BulkEnrolment.objects.get(pk=out["run"])
    assert run.state == BulkEnrolment.State.FAILED  # not pending for ever: staff see why and start again
    assert run.errors[0]["reason"] == "queue_unavailable"
    batch.refresh_from_db()
    assert batch.status == EvidenceBatch.Status.FAILED  # taken by the action, not queued: failed again
    assert "重新排队导入" in batch.failure
