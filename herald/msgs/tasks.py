"""Celery tasks of the sending pipeline. Each is safe to run twice: the database decides what is left to do."""

import contextlib
import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from herald.api import idempotency

from . import delivery, fanout, recovery
from .models import Broadcast, BroadcastStatus

logger = logging.getLogger(__name__)


def enqueue_broadcast(broadcast_id: int) -> None:
    """Start a broadcast once the transaction that stored it has committed."""
    transaction.on_commit(lambda: start_broadcast.delay(broadcast_id))


def enqueue_delivery(channel_ids) -> None:
    for channel_id in channel_ids:
        # Coalesce: one queued delivery per channel is enough, the holder drains everything due.
        if cache.add(f"delivery-queued:{channel_id}", 1, timeout=5):
            transaction.on_commit(lambda c=channel_id: deliver_channel.delay(c))


@contextlib.contextmanager
def failing_counts(broadcast_id: int, attempt: int | None = None):
    """An error while fanning a broadcast out is retried by the tick; one that keeps coming back (a bug, bad data)
    fails the broadcast after settings.BROADCAST_MAX_FAILURES attempts instead of retrying forever.

    The task's attempt (number `attempt`, see fanout.py) counts as failed from its start until it ends without an
    error, so that a worker killed in the middle of it counts too; an error fails the broadcast at once when it
    ends the last attempt allowed. A database that is down or busy doesn't count (the attempt is settled, if the
    database lets us): that is what retrying is for."""
    if attempt is not None:
        fanout.count_attempt(broadcast_id, attempt)
    try:
        yield
    except (OperationalError, InterfaceError):
        with contextlib.suppress(OperationalError, InterfaceError):
            if attempt is not None:
                fanout.settle_attempt(broadcast_id, attempt)
            else:  # the planner: its claim counted an attempt whose number went down with the error
                Broadcast.objects.filter(id=broadcast_id, failures__gt=0).update(failures=F("failures") - 1)
        raise
    except Exception:
        logger.exception("fan-out of broadcast %s failed", broadcast_id)
        unfinished = [BroadcastStatus.PENDING, BroadcastStatus.QUEUED, BroadcastStatus.STARTED]
        if Broadcast.objects.filter(
            id=broadcast_id, status__in=unfinished, failures__gte=settings.BROADCAST_MAX_FAILURES
        ).update(status=BroadcastStatus.FAILED, modified_on=timezone.now()):
            logger.error("broadcast %s failed: its fan-out kept failing", broadcast_id)
        raise
    if attempt is not None:
        fanout.settle_attempt(broadcast_id, attempt)


@shared_task(name="herald.msgs.tasks.start_broadcast")
def start_broadcast(broadcast_id: int) -> None:
    """Fan a broadcast out: a small audience right here, a big one as ranges that every worker may take a share of."""
    with failing_counts(broadcast_id):
        planned = fanout.plan(broadcast_id, settings.FANOUT_TASK_SIZE)  # counts the attempt it claims
    if len(planned.ranges) == 1:
        fan_out_range(broadcast_id, *planned.ranges[0], planned.attempt)  # a call, not a message: runs here and now
    elif planned.ranges:
        for after, upto in planned.ranges:
            fan_out_range.delay(broadcast_id, after, upto, planned.attempt)
        # This task's part is done; each range counts the attempt again when it begins (not while it waits).
        fanout.settle_attempt(broadcast_id, planned.attempt)


@shared_task(name="herald.msgs.tasks.fan_out_range")
def fan_out_range(broadcast_id: int, after: int, upto: int | None, attempt: int | None = None) -> None:
    with failing_counts(broadcast_id, attempt):
        created = fanout.fan_out_range(broadcast_id, after, upto, on_batch=enqueue_delivery)
    logger.info("broadcast %s, contacts (%s, %s]: %s messages created", broadcast_id, after, upto or "", created)


@shared_task(name="herald.msgs.tasks.deliver_channel")
def deliver_channel(channel_id: int) -> None:
    cache.delete(f"delivery-queued:{channel_id}")
    delivery.deliver(channel_id)


@shared_task(name="herald.msgs.tasks.tick")
def tick() -> None:
    """The safety net: resume stalled broadcasts, deliver what is due (retries included); forget expired
    Idempotency-Keys (at most once a minute)."""
    for broadcast_id in recovery.stalled_broadcasts():
        logger.info("resuming broadcast %s", broadcast_id)
        start_broadcast.delay(broadcast_id)
    enqueue_delivery(recovery.channels_with_due_messages())
    idempotency.purge_expired()
