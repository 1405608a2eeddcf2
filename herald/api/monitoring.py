"""What load balancers, orchestrators and Prometheus ask Herald, outside the API (no API token, no throttling):

- `GET /health`: liveness, 200 `{"status": "ok"}` whenever the process answers; it touches nothing else.
- `GET /ready`: readiness, 200 when the database and the broker answer, else 503 naming what is down, e.g.
  `{"status": "unavailable", "database": "ok", "broker": "could not connect: ..."}`. Each check is bounded by
  `CHECK_TIMEOUT` seconds.
- `GET /metrics` (with HERALD_METRICS=1, else 404): Prometheus' text format; with HERALD_METRICS_TOKEN set, only for
  `Authorization: Bearer <token>` (else 403). Counters and histograms come from every Herald process of this
  machine (prometheus_client's multiprocess files, settings.METRICS_DIR), the message figures from the database
  (herald/msgs/metrics.py), the task queues' lengths from the broker. Another figure (e.g. a webhook backlog) is
  one more collector in `_registry`.
"""

import hmac
import logging
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from kombu import Connection
from kombu.exceptions import ChannelError
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from herald.msgs.metrics import MessagesCollector
from herald.webhooks.metrics import WebhooksCollector

CHECK_TIMEOUT = 2  # seconds

logger = logging.getLogger(__name__)


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "broker": _check_broker()}
    up = all(result == "ok" for result in checks.values())
    return JsonResponse({"status": "ok" if up else "unavailable", **checks}, status=200 if up else 503)


def _check_database() -> str:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        connections["default"].close()  # the next request reconnects
        return f"could not query: {_describe(exc)}"
    return "ok"


def _check_broker() -> str:
    if settings.CELERY_BROKER_URL == "filesystem://":
        # The embedded queue is a folder: ready if this process can write to it.
        if settings.QUEUE_DIR.is_dir() and os.access(settings.QUEUE_DIR, os.W_OK):
            return "ok"
        return f"the queue folder {settings.QUEUE_DIR} is missing or not writable"
    broker = Connection(settings.CELERY_BROKER_URL, connect_timeout=CHECK_TIMEOUT)
    try:
        broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=CHECK_TIMEOUT)
    except Exception as exc:
        return f"could not connect: {_describe(exc)}"
    finally:
        broker.release()
    return "ok"


def _describe(exc: Exception) -> str:
    """The error in one line, without the database's or the broker's password (connection errors may quote them)."""
    text = " ".join(str(exc).split())[:300]
    for password in (settings.DATABASES["default"].get("PASSWORD"), _password_of(settings.CELERY_BROKER_URL)):
        if password:
            text = text.replace(password, "********")
    return text


def _password_of(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


class _ThisProcess(Collector):
    """The metrics this process alone keeps, when there is no multiprocess directory (tests, HERALD_METRICS off)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


class TaskQueues(Collector):
    """`herald_task_queue_length{queue}`: tasks waiting in each of the broker's queues (starts, fan-out ranges,
    deliveries, ticks), as the broker counts them (a Redis list's length, the queue folder's files)."""

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("herald_task_queue_length", "Tasks waiting in the broker's queue", labels=["queue"])
        queues = [
            settings.START_QUEUE,
            settings.CELERY_TASK_DEFAULT_QUEUE,
            settings.DELIVERY_QUEUE,
            settings.TICK_QUEUE,
        ]
        try:
            with _broker() as broker:
                channel = broker.default_channel
                for queue in queues:
                    family.add_metric([queue], _waiting(channel, queue))
        except Exception:
            logger.warning("could not count the broker's queues for /metrics", exc_info=True)
            return  # the scrape still answers, without this family
        yield family


def _broker() -> Connection:
    return Connection(
        settings.CELERY_BROKER_URL,
        transport=getattr(settings, "CELERY_BROKER_TRANSPORT", None),
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        connect_timeout=CHECK_TIMEOUT,
    )


def _waiting(channel: Any, queue: str) -> int:
    try:
        return int(channel.queue_declare(queue=queue, passive=True).message_count)
    except ChannelError:  # a queue nothing was ever put in (Redis drops an empty one)
        return 0


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ThisProcess())
    registry.register(MessagesCollector())
    registry.register(WebhooksCollector())
    registry.register(TaskQueues())
    return registry


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS:
        return JsonResponse({"detail": "Not found."}, status=404)
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JsonResponse({"detail": "/metrics needs Authorization: Bearer <HERALD_METRICS_TOKEN>."}, status=403)
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
