"""Herald settings: everything comes from the environment. herald/config.py lists every HERALD_* variable once, with
its type, default and meaning; this module assigns Herald's settings from it in groups (storage, work queue, fan-out,
delivery, web and API), then Django's, Celery's and DRF's from those.

Importing this module writes nothing: the data dir is made ready by herald/datadir.py before.
"""

import os
from typing import Any
from urllib.parse import urlsplit

import dj_database_url

from herald import config, datadir

CONFIG = config.read()

# Whatever a Herald process writes (the database and its WAL, queue files, media, the tick's schedule) is readable by
# this user only, from the moment it is created. Every Herald process (the CLI, the web and sending workers it
# starts, a WSGI server loading herald.wsgi) loads these settings first.
os.umask(datadir.PRIVATE_UMASK)

# --- Storage
DATA_DIR = CONFIG.data_dir
DATABASE_URL = CONFIG.DATABASE_URL or f"sqlite:///{DATA_DIR / 'herald.sqlite3'}"
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_MAX_UPLOAD_BYTES = CONFIG.MEDIA_MAX_BYTES
# `herald workspace create --media-quota` overrides it per workspace.
MEDIA_QUOTA_BYTES = CONFIG.MEDIA_QUOTA_BYTES
DATA_UPLOAD_MAX_MEMORY_SIZE = CONFIG.MAX_BODY_BYTES

# --- Work queue
QUEUE_DIR = datadir.queue_dir(DATA_DIR)
CELERY_BROKER_URL = CONFIG.BROKER_URL or "filesystem://"
REDIS_URL = CONFIG.REDIS_URL or (CONFIG.BROKER_URL if CONFIG.BROKER_URL.startswith("redis") else "")
CELERY_TASK_ALWAYS_EAGER = CONFIG.TASKS_EAGER
# The safety-net tick: retries due messages, resumes interrupted broadcasts.
TICK_SECONDS = CONFIG.TICK_SECONDS

# --- Sending: fan-out
FANOUT_BATCH_SIZE = CONFIG.FANOUT_BATCH
FANOUT_TASK_SIZE = CONFIG.FANOUT_TASK_SIZE
# The most threads that fan one broadcast out together: each range task queues the broadcast's next range when it is
# done, so that big broadcasts take turns (see tasks.start_broadcast).
FANOUT_PARALLEL_TASKS = CONFIG.FANOUT_PARALLEL_TASKS
BROADCAST_STALL_SECONDS = CONFIG.BROADCAST_STALL_SECONDS
BROADCAST_MAX_FAILURES = CONFIG.BROADCAST_MAX_FAILURES

# --- Delivery through channels
DELIVERY_CONCURRENCY = CONFIG.DELIVERY_CONCURRENCY
DELIVERY_LEASE_SECONDS = CONFIG.DELIVERY_LEASE_SECONDS
DELIVERY_TASK_SECONDS = CONFIG.DELIVERY_TASK_SECONDS
CHANNEL_BREAKER_FAILURES = CONFIG.CHANNEL_BREAKER_FAILURES
CHANNEL_BREAKER_SECONDS = CONFIG.CHANNEL_BREAKER_SECONDS
CHANNEL_CONNECT_TIMEOUT = CONFIG.CHANNEL_CONNECT_TIMEOUT
CHANNEL_SEND_TIMEOUT = CONFIG.CHANNEL_SEND_TIMEOUT
SEND_RETRY_DELAYS = CONFIG.SEND_RETRY_DELAYS
SEND_MAX_RETRIES = CONFIG.SEND_MAX_RETRIES
CHANNEL_LOG_DAYS = CONFIG.CHANNEL_LOG_DAYS
# --- Receiving
REPLY_WINDOW_HOURS = CONFIG.REPLY_WINDOW_HOURS

# --- Webhooks (herald/webhooks)
WEBHOOKS_ALLOW_PRIVATE = CONFIG.WEBHOOKS_ALLOW_PRIVATE
WEBHOOKS_TIMEOUT = CONFIG.WEBHOOKS_TIMEOUT
WEBHOOKS_CONCURRENCY = CONFIG.WEBHOOKS_CONCURRENCY
WEBHOOKS_BACKOFF_SECONDS = CONFIG.WEBHOOKS_BACKOFF_SECONDS
WEBHOOKS_MAX_BACKOFF_SECONDS = 3600.0
WEBHOOKS_RETRY_SECONDS = CONFIG.WEBHOOKS_RETRY_HOURS * 3600
# How long a process trusts what it read of the subscriptions ("does any want this event?"): the check that lets
# workspaces without webhooks pay nothing. A subscription made in another process is seen within this time.
WEBHOOKS_SUBSCRIPTIONS_TTL = 2.0
# Longest one webhook task sends for a subscription before it queues its next turn (others take theirs).
WEBHOOKS_TASK_SECONDS = 5.0

# --- Web and API
SECRET_KEY = datadir.read_secret_key(CONFIG)
DEBUG = CONFIG.DEBUG
# Debug pages show settings and local variables: URL passwords (database, broker, Redis) are masked there.
DEFAULT_EXCEPTION_REPORTER_FILTER = "herald.api.debug.CredentialRedactingFilter"
# Absolute base URL used for links that outlive a request (media URLs); empty means "from the request".
BASE_URL = CONFIG.BASE_URL.rstrip("/")
API_DEFAULT_RATE = CONFIG.API_RATE
LOG_LEVEL = CONFIG.LOG_LEVEL
LOG_FORMAT = CONFIG.LOG_FORMAT

# --- Following delivery: metrics and health (herald/api/monitoring.py)
METRICS = CONFIG.METRICS
METRICS_TOKEN = CONFIG.METRICS_TOKEN
# Herald runs several processes (web workers, the fan-out and delivery pools): each writes its counters and histograms
# to files here, which /metrics adds up (prometheus_client's multiprocess mode, which reads this variable when it is
# first imported: settings are loaded before that in every Herald process).
METRICS_DIR = datadir.metrics_dir(DATA_DIR)
if METRICS:
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(METRICS_DIR))


def _url_host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return f"[{host}]" if ":" in host else host


# The Host names requests may carry (others get a 400), since links outlive the request that made them (media URLs,
# `next` pages): HERALD_ALLOWED_HOSTS, else loopback; HERALD_BASE_URL's host in both cases. Without
# HERALD_ALLOWED_HOSTS, `herald serve` and `herald web` add the address they are bound to (herald.runtime.web).
LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
ALLOWED_HOSTS_FROM_ENV = [host.strip() for host in CONFIG.ALLOWED_HOSTS if host.strip()]
ALLOWED_HOSTS = [*(ALLOWED_HOSTS_FROM_ENV or LOOPBACK_HOSTS), *([_url_host(BASE_URL)] if BASE_URL else [])]
REQUIRE_HTTPS = CONFIG.REQUIRE_HTTPS
if REQUIRE_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Django, Celery and DRF

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "drf_spectacular",
    "herald.workspaces",
    "herald.contacts",
    "herald.media",
    "herald.channels",
    "herald.webhooks",
    "herald.msgs",
    "herald.api",
    "herald.web",
    "herald.runtime",
    # The web interface's parts (herald/web): sessions, users' passwords, its static files, htmx's vendored copy.
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "django.contrib.messages",
    "django_htmx",
    "csp",
]

MIDDLEWARE = [
    "herald.api.middleware.ControlCharactersInPathMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # /static/: the web interface's CSS, JS and vendored libraries, from the package itself (no collectstatic step).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Sessions are read only when a request asks (the web interface, the API's session authentication): token calls
    # to the API and channel callbacks never touch them. CSRF is checked by the web's views (herald/web/access.py)
    # and by DRF's SessionAuthentication, not by a middleware: callbacks and token calls carry no CSRF token.
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "django.contrib.messages.context_processors.messages",
                "herald.web.access.current_workspace",
            ]
        },
    }
]

# Connections stay open between requests, on SQLite too: one closed after each request cost a third of a small API
# request there (the open and its PRAGMAs, a cold page cache, and a WAL checkpoint whenever it was the last one open).
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
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

# The web interface's own files (herald/web/static), served by whitenoise straight from the installed package.
STATIC_URL = "/static/"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- The web interface (herald/web): sessions, sign-in, security headers
# Sessions in the database: signing out or changing a password ends them on every process at once.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 14 * 24 * 3600
# Behind HTTPS (HERALD_REQUIRE_HTTPS, or an https HERALD_BASE_URL) cookies never travel over plain HTTP.
SECURE_COOKIES = REQUIRE_HTTPS or BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_COOKIES
CSRF_TRUSTED_ORIGINS = [BASE_URL] if BASE_URL else []
CSRF_FAILURE_VIEW = "herald.web.views.account.csrf_failure"
LOGIN_URL = "web.signin"
# One-time notes to the next page ("Broadcast paused."): kept in the session, read only by pages that show them.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# No inline script or style anywhere in the interface: everything comes from /static/. The API's own HTML pages
# (its docs, under /api/) carry their inline style and are left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in attempts allowed per e-mail address and per client address in SIGNIN_WINDOW_SECONDS (herald/web/ratelimit.py).
SIGNIN_ATTEMPTS = 5
SIGNIN_WINDOW_SECONDS = 15 * 60
# How often a sending broadcast's counts are sampled for the chart on its page, and how often its page asks for news.
WEB_PROGRESS_SAMPLE_SECONDS = 10.0
WEB_POLL_SECONDS = 2
# Uploads are streamed to disk above this size rather than held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CACHES["shared"] = CACHES["default"]
else:
    # Per process (nothing shared must live here: `herald serve` runs several web processes) ...
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "herald"}}
    # ... and what the processes of this machine tell each other (the worker's pools, the API's rate limits): files
    # in the data dir.
    CACHES["shared"] = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
    }

# The work engine (Celery). Without HERALD_BROKER_URL, queues are files in the data dir: no server needed, and
# queued work survives a restart.
if CELERY_BROKER_URL == "filesystem://":
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
CELERY_TASK_EAGER_PROPAGATES = True
# Four queues, so that no kind of work waits behind another: deliveries on their own (served by their own pool, see
# `herald worker`); the first turn of each broadcast's fan-out (`start_broadcast`: all of a small audience, the plan
# of a big one) on its own, the ranges a big broadcast is cut into on Celery's default queue, both served by the
# fan-out pool, whose free thread takes from each queue in turn (kombu rotates them, on Redis and in the queue
# folder), so a new broadcast waits for one range task of another's, not for all of them; ticks on theirs (a tick
# waits for one free thread, not for the fan-out backlog). A tick not started within one period is dropped: the
# next one does the same work. A `start_broadcast` queued on the default queue (before it had its own) still runs.
CELERY_TASK_DEFAULT_QUEUE = "celery"
START_QUEUE, DELIVERY_QUEUE, TICK_QUEUE = "starts", "deliveries", "ticks"
# Webhook deliveries: a pool of their own too, so a slow or dead receiver never holds up sending.
WEBHOOK_QUEUE = "webhooks"
FANOUT_QUEUES = [START_QUEUE, CELERY_TASK_DEFAULT_QUEUE, TICK_QUEUE]  # what the fan-out pool serves
CELERY_TASK_ROUTES = {
    "herald.msgs.tasks.start_broadcast": {"queue": START_QUEUE},
    "herald.msgs.tasks.fire_schedule": {"queue": START_QUEUE},
    "herald.msgs.tasks.deliver_channel": {"queue": DELIVERY_QUEUE},
    "herald.msgs.tasks.tick": {"queue": TICK_QUEUE},
    "herald.api.tasks.purge_idempotency_keys": {"queue": TICK_QUEUE},
    "herald.channels.tasks.purge_channel_logs": {"queue": TICK_QUEUE},
    "herald.webhooks.tasks.deliver_webhook": {"queue": WEBHOOK_QUEUE},
    "herald.webhooks.tasks.tick": {"queue": TICK_QUEUE},
    "herald.web.tasks.sample_progress": {"queue": TICK_QUEUE},
    "herald.contacts.tasks.fail_stalled_imports": {"queue": TICK_QUEUE},
}
# Expired Idempotency-Keys are ignored at once; deleting their rows can wait this long.
IDEMPOTENCY_PURGE_SECONDS = 60
# Channel logs older than CHANNEL_LOG_DAYS are deleted this often, in bounded batches (herald/channels/channel_logs.py).
CHANNEL_LOG_PURGE_SECONDS = 60
# A running contact import whose worker wrote no progress this long lost it (progress is written every couple of
# thousand rows, seconds apart); the sweep looks this often (herald/contacts/imports.py, fail_stalled_imports).
CONTACT_IMPORT_STALL_SECONDS = 600
CONTACT_IMPORT_SWEEP_SECONDS = 60
CELERY_BEAT_SCHEDULE = {
    "tick": {"task": "herald.msgs.tasks.tick", "schedule": TICK_SECONDS, "options": {"expires": TICK_SECONDS}},
    "purge-channel-logs": {
        "task": "herald.channels.tasks.purge_channel_logs",
        "schedule": CHANNEL_LOG_PURGE_SECONDS,
        "options": {"expires": CHANNEL_LOG_PURGE_SECONDS},
    },
    "webhooks-tick": {
        "task": "herald.webhooks.tasks.tick",
        "schedule": TICK_SECONDS,
        "options": {"expires": TICK_SECONDS},
    },
    # The points of the charts on broadcasts' pages (herald/web/progress.py).
    "web-progress-samples": {
        "task": "herald.web.tasks.sample_progress",
        "schedule": WEB_PROGRESS_SAMPLE_SECONDS,
        "options": {"expires": WEB_PROGRESS_SAMPLE_SECONDS},
    },
    "purge-idempotency-keys": {
        "task": "herald.api.tasks.purge_idempotency_keys",
        "schedule": IDEMPOTENCY_PURGE_SECONDS,
        "options": {"expires": IDEMPOTENCY_PURGE_SECONDS},
    },
    "contact-imports-stalled": {
        "task": "herald.contacts.tasks.fail_stalled_imports",
        "schedule": CONTACT_IMPORT_SWEEP_SECONDS,
        "options": {"expires": CONTACT_IMPORT_SWEEP_SECONDS},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "herald.api.v2.auth.APITokenAuthentication",
        "herald.api.v2.auth.APIBasicAuthentication",
        # A signed-in browser's calls (as RapidPro's API allows): in the session's workspace, CSRF enforced.
        "herald.api.v2.auth.WorkspaceSessionAuthentication",
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

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "herald.logformat.JSONFormatter"},
    },
    # Channel callback URLs carry a secret: no log line may quote it (see herald/channels/logfilters.py).
    "filters": {"callback_secrets": {"()": "herald.channels.logfilters.RedactCallbackSecrets"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["callback_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
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
