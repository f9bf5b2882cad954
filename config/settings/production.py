"""Production settings: PostgreSQL, Redis, HTTPS. Required variables fail loudly."""

import os

from django.core.exceptions import ImproperlyConfigured

_REQUIRED = ["DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOWED_HOSTS"]
_missing = [name for name in _REQUIRED if not os.environ.get(name)]
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables: " + ", ".join(_missing)
    )

from . import *  # noqa: E402,F403
from . import env  # noqa: E402

DEBUG = False
IS_PRODUCTION = True  # seed_demo refuses to run: no demo credentials in production
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
# Placeholders (.env.example's "replace-with-…", the public dev key) are refused, not just short keys.
_PLACEHOLDER_WORDS = ("replace", "dev-only", "insecure", "changeme", "change-me", "example", "secret-key")


def _is_placeholder(value: str) -> bool:
    return any(word in value.lower() for word in _PLACEHOLDER_WORDS) or len(set(value)) < 10


if len(SECRET_KEY) < 50 or _is_placeholder(SECRET_KEY) or SECRET_KEY == DEV_SECRET_KEY:  # noqa: F405
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be a random value of at least 50 characters, not a placeholder "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')"
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
REDIS_URL = env.str("REDIS_URL")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                      "OPTIONS": REDIS_CACHE_OPTIONS}}  # noqa: F405
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = False

# The console transport prints sign-in codes into the logs: never in production. `file` is
# a sink for a staging box (make prod-local).
SMS_TRANSPORT = env.str("SMS_TRANSPORT", default="http")
if SMS_TRANSPORT not in ("http", "file"):
    raise ImproperlyConfigured(
        f"SMS_TRANSPORT={SMS_TRANSPORT!r} is not allowed in production: use http (the SMS gateway), "
        "or file (SMS_FILE_PATH) on a staging box"
    )
if SMS_TRANSPORT == "http" and not (env.str("SMS_GATEWAY_URL", default="") and env.str("SMS_GATEWAY_API_KEY", default="")):
    raise ImproperlyConfigured("SMS_TRANSPORT=http needs SMS_GATEWAY_URL and SMS_GATEWAY_API_KEY")
if SMS_TRANSPORT == "http" and "replace" in env.str("SMS_GATEWAY_API_KEY").lower():
    raise ImproperlyConfigured("SMS_GATEWAY_API_KEY is still the .env.example placeholder")

# Staff and administrators always use the second factor here (DESIGN §7).
OTP_REQUIRED = True

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))  # noqa: F405

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LOG_JSON = env.bool("LOG_JSON", default=True)
LOGGING["handlers"]["console"]["formatter"] = "json" if LOG_JSON else "plain"  # noqa: F405
