"""Redis down: nothing is lost. The row waits, and a real worker drains it once Redis is back.

"Redis down" is simulated by pointing the enqueuing process's broker at a closed
port (127.0.0.1:1) rather than stopping the shared Redis server other agents use;
to the enqueuer it is the same: connection refused. Then a real Celery worker on
the real Redis gets the periodic drain (sent here by the test, as beat would).
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from notifications.models import Message

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _env(database_url: str, broker: str, sms_file: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(DATABASE_URL=database_url, REDIS_URL=broker, CELERY_BROKER_URL=broker,
               CELERY_RESULT_BACKEND="cache+memory://", CELERY_TASK_ALWAYS_EAGER="0",
               SMS_TRANSPORT="file", SMS_FILE_PATH=str(sms_file),
               # Daytime everywhere: quiet hours are another test's business.
               SMS_QUIET_START_HOUR="0", SMS_QUIET_END_HOUR="0", DJANGO_SETTINGS_MODULE="config.settings")
    return env


def test_rows_enqueued_while_redis_is_down_are_sent_after_it_is_back(require_postgres, redis_url, tmp_path):
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    sms_file = tmp_path / "sms.jsonl"

    # 1. Redis "down": the enqueuing process cannot reach its broker.
    enqueue = (
        "from notifications.services import outbox_enqueue\n"
        "for i in range(3):\n"
        "    outbox_enqueue(phone=f'1390000000{i}', template='staff_message', context={'text': f'消息{i}'},"
        " dedup_key=f'outage:{i}')\n"
        "print('enqueued')\n"
    )
    down = subprocess.run([str(BIN / "python"), "manage.py", "shell", "-c", enqueue], cwd=ROOT,
                          env=_env(database_url, "redis://127.0.0.1:1/0", sms_file),
                          capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stderr[-2000:]
    assert "enqueued" in down.stdout
    assert "outbox kick failed" in down.stderr  # the broker refused; the caller was not hurt
    assert list(Message.objects.values_list("status", flat=True)) == ["queued"] * 3
    assert not sms_file.exists()

    # 2. Redis back: a real worker, and the periodic drain beat would send.
    env = _env(database_url, redis_url, sms_file)
    queue = f"outage-test-{os.getpid()}"
    worker = subprocess.Popen(
        [str(BIN / "celery"), "-A", "config", "worker", "-P", "solo", "-Q", queue, "-n", f"{queue}@%h",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        beat_tick = ("from notifications.tasks import outbox_drain_task\n"
                     f"outbox_drain_task.apply_async(queue={queue!r})\n")
        subprocess.run([str(BIN / "python"), "manage.py", "shell", "-c", beat_tick], cwd=ROOT, env=env,
                       check=True, capture_output=True, timeout=120)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and Message.objects.filter(status="sent").count() < 3:
            time.sleep(0.5)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert sorted(Message.objects.values_list("status", flat=True)) == ["sent"] * 3
    sent = [json.loads(line) for line in sms_file.read_text(encoding="utf-8").splitlines()]
    assert sorted(m["text"] for m in sent) == ["【青岛人社】消息0", "【青岛人社】消息1", "【青岛人社】消息2"]
