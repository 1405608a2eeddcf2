"""Herald settings: everything comes from the environment, with defaults that run on one box.

See the configuration table in README.md for every variable.
"""

import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


# Everything Herald writes holds contacts or credentials (the database and its WAL, queue files, media, the secret
# key, the tick's schedule): readable by this user only, from the moment it is created. Every Herald process (the
# CLI, the web and sending workers it starts, a WSGI server loading herald.wsgi) loads these settings first.
os.umask(0o077)


def _private_data_dir(path: Path) -> Path:
    """The data dir, made 0700; one that others could read (made by hand, or by an older Herald) is tightened."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(0o700)
        logging.getLogger("herald").warning(
            "herald: the data dir %s was open to other users (mode %04o); it is now 0700", path, mode
        )
    return path


DATA_DIR = _private_data_dir(Path(os.environ.get("HERALD_DATA_DIR", "./var")).resolve())


def _secret_key() -> str:
    """A key from the environment, else one generated once and kept in the data dir."""
    if os.environ.get("HERALD_SECRET_KEY"):
        return os.environ["HERALD_SECRET_KEY"]
    path = DATA_DIR / "secret_key"
    if not path.exists():
        # Written whole under a name of its own, then linked into place: processes starting together (the web
        # server and the worker) never read a half-written key, and all end up with the first one written.
        draft = path.with_name(f".secret_key.{os.getpid()}")
        draft.write_text(secrets.token_urlsafe(50))
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("HERALD_DEBUG")
# Debug pages show settings and local variables: URL passwords (database, broker, Redis) are masked there.
DEFAULT_EXCEPTION_REPORTER_FILTER = "herald.api.debug.CredentialRedactingFilter"

# Absolute base URL used for links that outlive a request (media URLs); empty means "from the request".
BASE_URL = os.environ.get("HERALD_BASE_URL", "").rstrip("/")


def _url_host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return f"[{host}]" if ":" in host else host


# The Host names requests may carry (others get a 400), since links outlive the request that made them (media URLs,
# `next` pages): HERALD_ALLOWED_HOSTS, else loopback; HERALD_BASE_URL's host in both cases. Without
# HERALD_ALLOWED_HOSTS, `herald serve` and `herald web` add the address they are bound to (herald.runtime.web).
LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
ALLOWED_HOSTS_FROM_ENV = [h.strip() for h in os.environ.get("HERALD_ALLOWED_HOSTS", "").split(",") if h.strip()]
ALLOWED_HOSTS = [*(ALLOWED_HOSTS_FROM_ENV or LOOPBACK_HOSTS), *([_url_host(BASE_URL)] if BASE_URL else [])]
REQUIRE_HTTPS = env_bool("HERALD_REQUIRE_HTTPS")
if REQUIRE_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "drf_spectacular",
    "herald.workspaces",
    "herald.contacts",
    "herald.media",
    "herald.channels",
    "herald.msgs",
    "herald.api",
    "herald.runtime",
]

MIDDLEWARE = [
    "herald.api.middleware.ControlCharactersInPathMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "herald.api.middleware.RequestTooLargeMiddleware",
    "herald.api.middleware.ServerErrorsAsJSONMiddleware",
]

ROOT_URLCONF = "herald.urls"
WSGI_APPLICATION = "herald.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASE_URL = os.environ.get("HERALD_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'herald.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two writers queue
    # on the busy timeout instead of failing with "database is locked" half-way through a transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        # A 64 MiB page cache (the default is 2 MiB) keeps the hot index pages of a big messages table in memory.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = False

MEDIA_ROOT = DATA_DIR / "media"
# Herald serves no static files; Django's live test server (integration tests) needs a prefix all the same.
STATIC_URL = "/static/"
MEDIA_MAX_UPLOAD_BYTES = int(os.environ.get("HERALD_MEDIA_MAX_BYTES", 25 * 1024 * 1024))
# What one workspace may keep in uploads, in bytes (0: no limit); `herald workspace create --media-quota` overrides it.
MEDIA_QUOTA_BYTES = int(os.environ.get("HERALD_MEDIA_QUOTA_BYTES", 1024 * 1024 * 1024))
# Uploads are streamed to disk above this size rather than held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("HERALD_MAX_BODY_BYTES", 2 * 1024 * 1024))

REDIS_URL = os.environ.get("HERALD_REDIS_URL") or (
    os.environ.get("HERALD_BROKER_URL", "") if os.environ.get("HERALD_BROKER_URL", "").startswith("redis") else ""
)
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CACHES["shared"] = CACHES["default"]
else:
    # The embedded server is one process, so an in-process cache is shared by every request it serves.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "herald"}}
    # What the worker's processes (fan-out, delivery) tell each other: files in the data dir.
    CACHES["shared"] = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
    }

# The work engine (Celery). Without HERALD_BROKER_URL, queues are files in the data dir: no server needed, and
# queued work survives a restart.
QUEUE_DIR = DATA_DIR / "queue"
CELERY_BROKER_URL = os.environ.get("HERALD_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    QUEUE_DIR.mkdir(parents=True, exist_ok=True)
    # kombu's file-system transport, with messages written atomically (see herald/runtime/filequeue.py).
    CELERY_BROKER_TRANSPORT = "herald.runtime.filequeue:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(QUEUE_DIR),
        "data_folder_out": str(QUEUE_DIR),
        # kombu's default is ./control, wherever the command happens to run.
        "control_folder": str(QUEUE_DIR / "control"),
        "polling_interval": 0.05,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# The console channel prints to the worker's output: keep it plain text, not log records.
CELERY_WORKER_REDIRECT_STDOUTS = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("HERALD_TASKS_EAGER")
CELERY_TASK_EAGER_PROPAGATES = True
# How often the safety-net tick runs (seconds): retries due messages, resumes interrupted broadcasts.
TICK_SECONDS = float(os.environ.get("HERALD_TICK_SECONDS", "1"))
# Recipients handled per fan-out transaction.
FANOUT_BATCH_SIZE = int(os.environ.get("HERALD_FANOUT_BATCH", "1000"))
# Recipients per fan-out task: a bigger audience is cut into tasks of this size, which all workers share.
FANOUT_TASK_SIZE = int(os.environ.get("HERALD_FANOUT_TASK_SIZE", "10000"))
# Fan-out tasks of one broadcast in the queue at once: the most threads that fan one broadcast out together. Each
# queues the broadcast's next range when it is done, so that big broadcasts take turns (see tasks.start_broadcast).
FANOUT_PARALLEL_TASKS = max(1, int(os.environ.get("HERALD_FANOUT_PARALLEL_TASKS", "4")))
# A broadcast unfinished and untouched this long is resumed by the tick.
# Fan-out attempts of one broadcast that may end in an error before it is marked failed.
BROADCAST_MAX_FAILURES = int(os.environ.get("HERALD_BROADCAST_MAX_FAILURES", "3"))
BROADCAST_STALL_SECONDS = float(os.environ.get("HERALD_BROADCAST_STALL_SECONDS", "30"))
# Concurrent requests a worker makes to one channel's gateway; how long a send lease lasts without renewal.
DELIVERY_CONCURRENCY = int(os.environ.get("HERALD_DELIVERY_CONCURRENCY", "16"))
DELIVERY_LEASE_SECONDS = float(os.environ.get("HERALD_DELIVERY_LEASE_SECONDS", "30"))
# Longest a delivery task sends for one channel before the channel goes to the back of the queue (seconds).
DELIVERY_TASK_SECONDS = float(os.environ.get("HERALD_DELIVERY_TASK_SECONDS", "2"))
# Sends in a row without an answer (timeouts, refused or dropped connections) that pause a channel, and for how long
# (seconds); 0 sends never pause it.
CHANNEL_BREAKER_FAILURES = int(os.environ.get("HERALD_CHANNEL_BREAKER_FAILURES", "10"))
CHANNEL_BREAKER_SECONDS = float(os.environ.get("HERALD_CHANNEL_BREAKER_SECONDS", "60"))
# Four queues, so that no kind of work waits behind another: deliveries on their own (served by their own pool, see
# `herald worker`); the first turn of each broadcast's fan-out (`start_broadcast`: all of a small audience, the plan
# of a big one) on its own, the ranges a big broadcast is cut into on Celery's default queue, both served by the
# fan-out pool, whose free thread takes from each queue in turn (kombu rotates them, on Redis and in the queue
# folder), so a new broadcast waits for one range task of another's, not for all of them; ticks on theirs (a tick
# waits for one free thread, not for the fan-out backlog). A tick not started within one period is dropped: the
# next one does the same work. A `start_broadcast` queued on the default queue (before it had its own) still runs.
CELERY_TASK_DEFAULT_QUEUE = "celery"
START_QUEUE, DELIVERY_QUEUE, TICK_QUEUE = "starts", "deliveries", "ticks"
FANOUT_QUEUES = [START_QUEUE, CELERY_TASK_DEFAULT_QUEUE, TICK_QUEUE]  # what the fan-out pool serves
CELERY_TASK_ROUTES = {
    "herald.msgs.tasks.start_broadcast": {"queue": START_QUEUE},
    "herald.msgs.tasks.deliver_channel": {"queue": DELIVERY_QUEUE},
    "herald.msgs.tasks.tick": {"queue": TICK_QUEUE},
    "herald.api.tasks.purge_idempotency_keys": {"queue": TICK_QUEUE},
}
# Expired Idempotency-Keys are ignored at once; deleting their rows can wait this long.
IDEMPOTENCY_PURGE_SECONDS = 60
CELERY_BEAT_SCHEDULE = {
    "tick": {"task": "herald.msgs.tasks.tick", "schedule": TICK_SECONDS, "options": {"expires": TICK_SECONDS}},
    "purge-idempotency-keys": {
        "task": "herald.api.tasks.purge_idempotency_keys",
        "schedule": IDEMPOTENCY_PURGE_SECONDS,
        "options": {"expires": IDEMPOTENCY_PURGE_SECONDS},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

API_DEFAULT_RATE = os.environ.get("HERALD_API_RATE", "3600/hour")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "herald.api.v2.auth.APITokenAuthentication",
        "herald.api.v2.auth.APIBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["herald.api.v2.https.HTTPSRequired", "herald.api.v2.permissions.RolePermission"],
    "DEFAULT_THROTTLE_CLASSES": ["herald.api.v2.throttles.WorkspaceRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "v2": API_DEFAULT_RATE,
        "v2.contacts": API_DEFAULT_RATE,
        "v2.messages": API_DEFAULT_RATE,
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "herald.api.v2.parsers.StrictJSONParser",
        "herald.api.v2.parsers.StrictFormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "PAGE_SIZE": 250,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Herald API v2",
    "DESCRIPTION": "Broadcast messaging API, wire-compatible with RapidPro / TextIt API v2.",
    "VERSION": "2",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["herald.api.v2.schema.drop_trailing_slash_variants"],
    "EXTENSIONS_TO_LOAD": ["herald.api.v2.schema"],
}

# DRF warns that PAGE_SIZE needs a default paginator; every list endpoint sets its own cursor paginator instead.
SILENCED_SYSTEM_CHECKS = ["rest_framework.W001"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Channel callback URLs carry a secret: no log line may quote it (see herald/channels/logfilters.py).
    "filters": {"callback_secrets": {"()": "herald.channels.logfilters.RedactCallbackSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["callback_secrets"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("HERALD_LOG_LEVEL", "INFO")},
    # httpx logs every gateway request at INFO: too much at thousands of messages a second.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        # Task bookkeeping (every tick, every task received) is noise at INFO; errors still show.
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
        "celery.beat": {"level": "WARNING"},
        # "Discarding revoked task" for every expired tick.
        "celery.worker.request": {"level": "WARNING"},
        # The file-system queue has no host name; kombu warns about that on every connection.
        "kombu.connection": {"level": "ERROR"},
        # The web server warns whenever requests wait for a free thread: normal under load, not an error.
        "waitress.queue": {"level": "ERROR"},
    },
}

# Sending through channels: seconds to connect to / for a whole request to a gateway; the back-off (seconds) after
# each failed attempt, and how many retries a message gets before it fails ("retry limit reached").
CHANNEL_CONNECT_TIMEOUT = float(os.environ.get("HERALD_CHANNEL_CONNECT_TIMEOUT", "5"))
CHANNEL_SEND_TIMEOUT = float(os.environ.get("HERALD_CHANNEL_SEND_TIMEOUT", "30"))
SEND_RETRY_DELAYS = [float(s) for s in os.environ.get("HERALD_SEND_RETRY_DELAYS", "10,60,300").split(",")]
SEND_MAX_RETRIES = int(os.environ.get("HERALD_SEND_MAX_RETRIES", "3"))
