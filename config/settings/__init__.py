"""Settings from the environment (django-environ).

The defaults are the embedded ones (SQLite under var/, eager Celery, local-memory
cache) so that `make demo` runs on a bare laptop. `DATABASE_URL` and `REDIS_URL`
switch to PostgreSQL and Redis. Production is `config.settings.production`,
which refuses to start without its required variables.
"""

import datetime as dt
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

IS_PRODUCTION = False
DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Dev-only key, public in this repository; production.py requires DJANGO_SECRET_KEY and
# refuses this one. The dev settings refuse to serve anything but loopback with it (below).
DEV_SECRET_KEY = "dev-only-insecure-key-not-for-production"  # noqa: S105 - public on purpose
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",  # issue 13: hashed, expiring API tokens (certification.accounts.ApiToken)
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "django_otp",  # issue 13: TOTP second factor for staff and administrators
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # recovery codes
    "certification",
    "certification.accounts",  # issue 13: tokens, second factor, sign-in limits
    "bigdata",
    "notifications",
    "certification.dashboards",  # issue 4: administrator dashboards
    "certification.staff",  # issue 5: street-office warning queue
    "certification.faces",  # issue 6: face certification
    "certification.cases",  # issue 10: appeals, death verification and revocation cases
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # DESIGN §7, below WhiteNoise so static files keep their cache headers: the CSP (django-csp),
    # Permissions-Policy and Cache-Control: no-store on everything dynamic.
    "csp.middleware.CSPMiddleware",
    "certification.headers.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # LocaleMiddleware that ignores Accept-Language: Chinese until the person picks English.
    "certification.language.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle limits for everyone, then staff's second factor (after OTPMiddleware; after
    # MessageMiddleware so a pensioner signed out for idling is told why).
    "certification.accounts.middleware.SessionPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # AxesMiddleware must be last (django-axes docs).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker) share the dev file: wait rather than fail.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "certification.User"
AUTHENTICATION_BACKENDS = [
    # AxesStandaloneBackend must be first: it locks out repeated failures.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # ASVS 2.1.1: at least 12 characters (only staff and administrators have passwords).
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "certification:login"
LOGIN_REDIRECT_URL = "certification:home"
LOGOUT_REDIRECT_URL = "certification:login"

# ---- Client address: the proxy's word, not the client's (DESIGN §7) ----------
# How many reverse proxies in front of the portal append to X-Forwarded-For. 0: the
# header is ignored and the socket peer is the client. DRF throttles (NUM_PROXIES),
# django-axes and the sign-in limits all read the address through this one number
# (certification/accounts/addresses.py).
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)

# django-axes: lock a staff/admin account after repeated password failures, keyed by
# username AND address, so nobody can lock a staff member out from outside; and the
# street office behind one NAT address is not locked as a whole either.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "certification.accounts.addresses.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "certification/locked_out.html"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

# ---- Staff and administrator sessions (ASVS 3.3, DESIGN §7) -------------------
# The second factor (TOTP, django-otp). Off by default so the demo and the tests sign in
# with a password only (seed_demo says so); config.settings.production forces it on.
OTP_REQUIRED = env.bool("OTP_REQUIRED", default=False)
OTP_TOTP_ISSUER = "青岛养老金资格认证"
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
# Pensioners and relatives (SMS sign-in) too, often on a shared or borrowed phone (ASVS 3.3.2).
# Longer than staff: an old person reads slowly. The face capture page's polling keeps it alive.
PUBLIC_SESSION_IDLE_SECONDS = env.int("PUBLIC_SESSION_IDLE_SECONDS", default=60 * 60)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on a missing directory
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"
# Uploaded feeds and photos hold personal data: owner-only, whatever the umask (DESIGN §7).
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# DESIGN §7: no inline script or style anywhere, nothing from another origin (the portal runs
# on an intranet: no CDN). data: images are the admin's and Swagger UI's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# The only pages that may open the camera (Permissions-Policy camera=(self)); everywhere else camera=().
CAMERA_PATHS = ["/face/capture/"]
# Bulk enrolment reads ID photos only from folders inside this root (issue 13 item 13).
FACE_IMPORT_ROOT = env.path("FACE_IMPORT_ROOT", default=str(VAR_DIR / "face-import"))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# ---- Redis, cache, Celery -------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# A Redis host that is gone (accepts, or drops packets, and never answers) must not hang a
# page. Broker sockets give up after REDIS_SOCKET_TIMEOUT, cache sockets after
# REDIS_CACHE_SOCKET_TIMEOUT; pages publish once (no retries) and the API throttles let a
# request through when the cache fails. The busiest such page (a face capture's last chunk:
# a throttle read, the chunk's analysis, the check) pays 0.5 + 0.5 + 0.5 s, so a page that
# enqueues answers within 2 s and the work waits in the outbox (docs/reliability.md, drill 10).
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.5)
REDIS_CACHE_SOCKET_TIMEOUT = env.float("REDIS_CACHE_SOCKET_TIMEOUT", default=0.5)
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": REDIS_CACHE_SOCKET_TIMEOUT, "socket_timeout": REDIS_CACHE_SOCKET_TIMEOUT}
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": REDIS_CACHE_OPTIONS}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or "cache+memory://")
# Without a broker, tasks run inline (the embedded default).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a killed worker's task is redelivered; tasks are idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"certification.faces.tasks.*": {"queue": "face"}}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# visibility_timeout: an unacknowledged task (its worker's main process died) is redelivered
# after this long; the drills set it short (CELERY_VISIBILITY_TIMEOUT) to show it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
}
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_SOCKET_TIMEOUT

# ---- Domain settings (DESIGN §2) -------------------------------------------
CERT_CYCLE_MONTHS = env.int("CERT_CYCLE_MONTHS", default=12)
CERT_WARNING_MONTHS = env.int("CERT_WARNING_MONTHS", default=3)
# Working days the street office has to answer an appeal or work a death case (issue 10).
CASE_ANSWER_WORKING_DAYS = env.int("CASE_ANSWER_WORKING_DAYS", default=3)
# Reminder days during warning: every N days, and N days before suspension.
CERT_REMINDER_EVERY_DAYS = env.int("CERT_REMINDER_EVERY_DAYS", default=30)
CERT_REMINDER_BEFORE_SUSPENSION_DAYS = env.int("CERT_REMINDER_BEFORE_SUSPENSION_DAYS", default=7)

# ---- Face certification (issue 6: certification/faces) ------------------------
# Tolerance chosen by measurement on ../shared/faces (docs/performance.md, "Face verification").
FACE_TOLERANCE = env.float("FACE_TOLERANCE", default=0.55)
FACE_CHALLENGE_SECONDS = env.int("FACE_CHALLENGE_SECONDS", default=120)
FACE_FRAME_RETENTION_DAYS = env.int("FACE_FRAME_RETENTION_DAYS", default=0)  # 0: delete frames at the decision
FACE_MAX_FAILED_PER_DAY = env.int("FACE_MAX_FAILED_PER_DAY", default=5)
FACE_CAPTURE_FPS = env.int("FACE_CAPTURE_FPS", default=5)
FACE_CAPTURE_SECONDS_PER_PROMPT = env.float("FACE_CAPTURE_SECONDS_PER_PROMPT", default=3.5)
FACE_MIN_FRAMES = env.int("FACE_MIN_FRAMES", default=4)
FACE_MAX_FRAMES = env.int("FACE_MAX_FRAMES", default=80)  # 5 fps × ≤13 s of server-led prompts; >100 is a 400
# Issue 11 (server-led liveness): share of frames that must hold exactly one face (measured on the
# clip: docs/performance.md "Faces"), replay memory of frame hashes, session caps, splice tolerance.
FACE_LIVENESS_FACE_SHARE = env.float("FACE_LIVENESS_FACE_SHARE", default=0.8)
FACE_REPLAY_DAYS = env.int("FACE_REPLAY_DAYS", default=30)
FACE_MAX_SESSIONS_PER_DAY = env.int("FACE_MAX_SESSIONS_PER_DAY", default=10)
FACE_SPLICE_TOLERANCE = env.float("FACE_SPLICE_TOLERANCE", default=0.6)
FACE_CHUNK_MAX_FRAMES = env.int("FACE_CHUNK_MAX_FRAMES", default=10)
FACE_MAX_FRAME_BYTES = env.int("FACE_MAX_FRAME_BYTES", default=1_500_000)
FACE_MAX_FRAME_SIDE = env.int("FACE_MAX_FRAME_SIDE", default=1920)
FACE_MAX_FRAME_PIXELS = env.int("FACE_MAX_FRAME_PIXELS", default=1920 * 1080)
FACE_MAX_UPLOAD_BYTES = env.int("FACE_MAX_UPLOAD_BYTES", default=20_000_000)
FACE_MAX_PHOTO_BYTES = env.int("FACE_MAX_PHOTO_BYTES", default=10_000_000)
FACE_MAX_PHOTO_SIDE = env.int("FACE_MAX_PHOTO_SIDE", default=8000)
FACE_MAX_PHOTO_PIXELS = env.int("FACE_MAX_PHOTO_PIXELS", default=40_000_000)
FACE_PROXY_MAX_PENSIONERS = env.int("FACE_PROXY_MAX_PENSIONERS", default=3)  # distinct people per helper
FACE_PROXY_WINDOW_MONTHS = env.int("FACE_PROXY_WINDOW_MONTHS", default=12)
FACE_PROXY_HELPER_PER_HOUR = env.int("FACE_PROXY_HELPER_PER_HOUR", default=10)  # look-ups by one helper
FACE_PROXY_TARGET_PER_HOUR = env.int("FACE_PROXY_TARGET_PER_HOUR", default=5)  # look-ups of one ID number

# ---- Sign-in by SMS code ---------------------------------------------------
SMS_CODE_TTL_SECONDS = env.int("SMS_CODE_TTL_SECONDS", default=300)
SMS_CODE_MAX_ATTEMPTS = env.int("SMS_CODE_MAX_ATTEMPTS", default=5)  # tries per code
SMS_CODE_SENDS_PER_HOUR = env.int("SMS_CODE_SENDS_PER_HOUR", default=5)  # codes per ID number
# An ID number (or relative's phone) locks after this many wrong codes within the window:
# at most 10 guesses a day instead of 25 an hour (issue 13 item 2).
SIGNIN_LOCK_AFTER_FAILURES = env.int("SIGNIN_LOCK_AFTER_FAILURES", default=10)
SIGNIN_LOCK_WINDOW_HOURS = env.int("SIGNIN_LOCK_WINDOW_HOURS", default=24)
# Per client address (a community centre may sign in a few dozen people an hour).
SIGNIN_CODES_PER_ADDRESS_PER_HOUR = env.int("SIGNIN_CODES_PER_ADDRESS_PER_HOUR", default=20)
SIGNIN_GUESSES_PER_ADDRESS_PER_HOUR = env.int("SIGNIN_GUESSES_PER_ADDRESS_PER_HOUR", default=60)
# Everyone together: caps SMS bombing and the cost of a distributed attack.
SIGNIN_CODES_PER_MINUTE = env.int("SIGNIN_CODES_PER_MINUTE", default=120)

# ---- Notifications ------------------------------------------------------------
SMS_TRANSPORTS = ("console", "file", "http")
SMS_TRANSPORT = env.str("SMS_TRANSPORT", default="console")
if SMS_TRANSPORT not in SMS_TRANSPORTS:
    raise ImproperlyConfigured(f"SMS_TRANSPORT must be one of {', '.join(SMS_TRANSPORTS)}, not {SMS_TRANSPORT!r}")
SMS_FILE_PATH = env.path("SMS_FILE_PATH", default=str(VAR_DIR / "sms.log"))
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_API_KEY = env.str("SMS_GATEWAY_API_KEY", default="")
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=5.0)
SMS_QUIET_START_HOUR = env.int("SMS_QUIET_START_HOUR", default=20)
SMS_QUIET_END_HOUR = env.int("SMS_QUIET_END_HOUR", default=8)
NOTIFY_BIG_DATA_SUCCESS = env.bool("NOTIFY_BIG_DATA_SUCCESS", default=True)

# ---- REST framework ---------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # knox tokens (hashed, expiring), refused after a password change.
        "certification.accounts.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [  # the stock ones, letting requests through while Redis is gone
        "certification.throttling.AnonThrottle",
        "certification.throttling.UserThrottle",
    ],
    # X-Forwarded-For is read only through the trusted-proxy count (issue 13 item 3).
    "NUM_PROXIES": TRUSTED_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
    },
    "EXCEPTION_HANDLER": "certification.api_errors.exception_handler",
}
# knox's own migrations create its default table even when the model is swapped; that
# table would reference the users and block PostgreSQL's TRUNCATE in tests. Not needed.
MIGRATION_MODULES = {"knox": None}
KNOX_TOKEN_MODEL = "accounts.ApiToken"  # noqa: S105 - a model name
REST_KNOX = {
    "TOKEN_TTL": dt.timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=8)),
    "TOKEN_LIMIT_PER_USER": 20,
    "AUTH_HEADER_PREFIX": "Token",  # the DESIGN §4 contract: `Authorization: Token …`
}
SPECTACULAR_SETTINGS = {
    "TITLE": "养老金资格认证平台 API",
    "DESCRIPTION": "Pension-eligibility certification portal, REST API v1.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Issue 4: every operation documents the JSON error shape (certification/api_errors.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "certification.api_errors.document_errors",
    ],
}

# ---- Security defaults that are safe in dev too ----------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 8)
X_FRAME_OPTIONS = "DENY"

# ---- Logging ---------------------------------------------------------------
LOG_JSON = env.bool("LOG_JSON", default=False)
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json" if LOG_JSON else "plain"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# ---- Notification outbox (issue 5: warning-period operations) -------------------
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=8)
NOTIFY_RETRY_BASE_SECONDS = env.int("NOTIFY_RETRY_BASE_SECONDS", default=60)
NOTIFY_RETRY_MAX_SECONDS = env.int("NOTIFY_RETRY_MAX_SECONDS", default=6 * 3600)
CELERY_BEAT_SCHEDULE = globals().get("CELERY_BEAT_SCHEDULE", {})
# Every minute: sends rows whose on-commit kick was lost (Redis down), whose retry
# backoff is over, or that waited out the SMS quiet hours.
CELERY_BEAT_SCHEDULE["notifications-outbox-drain"] = {
    "task": "notifications.tasks.outbox_drain_task",
    "schedule": 60.0,
}
# Every minute: face checks whose task never reached the broker (Redis gone at upload)
# are sent again; the attempt row with its stored frames is the outbox.
CELERY_BEAT_SCHEDULE["face-attempts-redispatch"] = {
    "task": "certification.faces.tasks.attempts_redispatch_task",
    "schedule": 60.0,
}
# Every 10 minutes: face frames past their retention, frames of attempts stuck in RUNNING or
# abandoned, and replay hashes past FACE_REPLAY_DAYS (PIPL). Bounded batches; the task requeues
# itself while a batch comes back full, and a lock keeps two runs from piling up.
CELERY_BEAT_SCHEDULE["face-frames-purge"] = {
    "task": "certification.faces.tasks.frames_purge_task",
    "schedule": 600.0,
}

# ---- Periodic tasks: the one place they are defined -------------------------
# django-celery-beat's DatabaseScheduler copies these into the DB, where the
# schedule can be edited in the Django admin.
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = globals().get("CELERY_BEAT_SCHEDULE", {})
# 02:00 Asia/Shanghai: after the agencies' feeds of the day have landed, before
# staff start work, so the morning queue is current.
CELERY_BEAT_SCHEDULE["run-nightly"] = {
    "task": "certification.run_nightly",
    "schedule": crontab(hour=2, minute=0),
}
# 03:30: sign-in events older than a day (they feed limits of an hour at most).
CELERY_BEAT_SCHEDULE["signin-events-purge"] = {
    "task": "certification.accounts.tasks.signin_events_purge_task",
    "schedule": crontab(hour=3, minute=30),
}
# Beat's nightly task splits matching into pensioner-id chunks shared by all workers.
NIGHTLY_SCALE_OUT = env.bool("NIGHTLY_SCALE_OUT", default=True)

# ---- Fail closed (DESIGN §7, issue 13 item 11) ---------------------------------
# These are the debug settings with a public key. wsgi.py and celery.py default to
# config.settings.production; manage.py defaults here for `make demo` and the tests, so
# these settings refuse to be a public server: no host but loopback, and runserver
# only on a loopback address. production.py imports this module and skips the check.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]", "testserver"})


def _refuse_public_debug() -> None:
    import ipaddress
    import os
    import sys

    if os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings") != "config.settings":
        return
    if not (DEBUG or SECRET_KEY == DEV_SECRET_KEY):
        return
    public = [h for h in ALLOWED_HOSTS if h not in LOOPBACK_HOSTS]
    if public:
        raise ImproperlyConfigured(
            f"config.settings is for development (debug, public dev key) and serves loopback only; "
            f"DJANGO_ALLOWED_HOSTS has {', '.join(public)}. Use DJANGO_SETTINGS_MODULE=config.settings.production."
        )
    argv = sys.argv[1:]
    if argv[:1] != ["runserver"]:
        return
    addr = next((a for a in argv[1:] if not a.startswith("-")), "")
    host = addr.rpartition(":")[0] if ":" in addr and not addr.startswith("[") else addr.split("]")[0].lstrip("[")
    if addr.isdigit() or not addr:
        return  # a bare port: runserver binds 127.0.0.1 (or ::1 with --ipv6)
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ImproperlyConfigured(
            f"runserver {addr}: the development settings bind loopback only (127.0.0.1). "
            "A server others can reach runs with config.settings.production."
        )


_refuse_public_debug()
