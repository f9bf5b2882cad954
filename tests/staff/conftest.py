import pytest


@pytest.fixture(autouse=True)
def _celery_eager():
    """Kicked tasks run inline here, also when REDIS_URL is set (CI); the Redis-outage
    test drives a real worker in a subprocess instead."""
    from config.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = old
