import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Face checks run on their own queue so web workers and the default queue are not held.
app.autodiscover_tasks(["certification.faces"], force=False)
