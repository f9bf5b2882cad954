import os

from celery import Celery, signals

# Fail closed (DESIGN §7): a worker started without DJANGO_SETTINGS_MODULE gets the production
# settings (which refuse to start without their secrets), never the debug ones.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Face checks run on their own queue so web workers and the default queue are not held.
app.autodiscover_tasks(["certification.faces"], force=False)

# Pages publish once (apply_async(retry=False)). Without max_retries, kombu opens a refused
# broker connection with one retry after interval_start (2 s), so a page that enqueues two
# tasks took 4 s when Redis refused; with 0 it raises at once and the work waits in the
# outbox (docs/reliability.md, drill 10). Workers and beat keep kombu's reconnecting.
PAGE_TRANSPORT_OPTIONS = {"max_retries": 0}


# How soon a worker puts back a dead worker's unacknowledged task once its visibility timeout
# is over: kombu scans every unacked_restore_interval x unacked_restore_throttle seconds
# (10 x 10 by default, so up to ~100 s late). Kombu's defaults unless set; drill 3's CI copy
# sets 1 x 1 next to its short CELERY_VISIBILITY_TIMEOUT.
RESTORE_OPTIONS = {k: int(os.environ[f"CELERY_{k.upper()}"]) for k in ("unacked_restore_interval",
                                                                         "unacked_restore_throttle")
                   if os.environ.get(f"CELERY_{k.upper()}")}


@app.on_after_configure.connect
def _pages_publish_once(sender: Celery, **_: object) -> None:
    sender.conf.broker_transport_options = {**(sender.conf.broker_transport_options or {}),
                                            **PAGE_TRANSPORT_OPTIONS, **RESTORE_OPTIONS}


@signals.worker_init.connect
@signals.beat_init.connect
def _services_reconnect(sender: object = None, **_: object) -> None:
    opts = dict(app.conf.broker_transport_options or {})
    for key in PAGE_TRANSPORT_OPTIONS:
        opts.pop(key, None)
    app.conf.broker_transport_options = opts
