import os

from celery import Celery

# Fail closed (DESIGN §7): a worker started without DJANGO_SETTINGS_MODULE gets the production
# settings (which refuse to start without their secrets), never the debug ones.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Face checks run on their own queue so web workers and the default queue are not held.
app.autodiscover_tasks(["certification.faces"], force=False)
