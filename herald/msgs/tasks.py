"""Celery tasks of the sending pipeline. Each is safe to run twice: the database decides what is left to do."""

import contextlib
import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import caches
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from . import delivery, fanout, recovery
from .models import Broadcast, BroadcastStatus

logger = logging.getLogger(__name__)


def shared_cache():
    """The cache every process of the installation sees: delivery tasks run in another process than the fan-out
    that queues them (see settings.CACHES)."""
    return caches["shared"]


def enqueue_broadcast(broadcast_id: int) -> None:
    """Start a broadcast once the transaction that stored it has committed."""
    send_after_commit(start_broadcast, broadcast_id)


def enqueue_delivery(channel_ids) -> None:
    for channel_id in channel_ids:
        # Coalesce: one queued delivery per channel is enough, the holder drains everything due.
        queued = f"delivery-queued:{channel_id}"
        if shared_cache().add(queued, 1, timeout=5):
            send_after_commit(deliver_channel, channel_id, on_failure=lambda key=queued: shared_cache().delete(key))


def send_after_commit(task, *args, on_failure=None) -> None:
    """Queue `task` once the current transaction commits (at once outside one).

    The work is committed by then, and the tick finds work whose task never came (a pending broadcast, a queued
    message: `recovery`), so a task that can't be queued (broker unreachable, disk full) is logged and left to the
    tick; `on_failure()` undoes what assumed it was queued. Raising would tell the client (or the fan-out) that
    nothing happened when it did: a client retrying a "failed" POST sent the broadcast twice.
    """

    def send():
        try:
            task.delay(*args)
        except Exception:
            logger.exception("could not queue %s%r: the tick will do it", task.name, args)
            if on_failure is not None:
                on_failure()

    transaction.on_commit(send)


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
    """Fan a broadcast out: a small audience right here, a big one as ranges that several workers may share."""
    with failing_counts(broadcast_id):
        planned = fanout.plan(broadcast_id, settings.FANOUT_TASK_SIZE)  # counts the attempt it claims
    if len(planned.ranges) == 1:
        fan_out_range(broadcast_id, *planned.ranges[0], planned.attempt)  # a call, not a message: runs here and now
    elif planned.ranges:
        # A few strands, each range queuing the next one of its strand when it is done: a big broadcast has at most
        # FANOUT_PARALLEL_TASKS tasks in the queue, so other broadcasts' ranges take turns with its own instead of
        # waiting for all of them.
        strands = settings.FANOUT_PARALLEL_TASKS
        for first in range(min(strands, len(planned.ranges))):
            queue_ranges(broadcast_id, planned.ranges[first::strands], planned.attempt)
        # This task's part is done; each range counts the attempt again when it begins (not while it waits).
        assert planned.attempt is not None  # a plan with ranges has claimed its attempt
        fanout.settle_attempt(broadcast_id, planned.attempt)


def queue_ranges(broadcast_id: int, ranges: list, attempt: int | None) -> None:
    """Queue a task for the first of `ranges`, which queues the next one when it is done."""
    (after, upto), *then = ranges
    send_after_commit(fan_out_range, broadcast_id, after, upto, attempt, then)


@shared_task(name="herald.msgs.tasks.fan_out_range")
def fan_out_range(broadcast_id: int, after: int, upto: int | None, attempt: int | None = None, then=()) -> None:
    """Fan out the recipients in `(after, upto]`, then queue the ranges `then` (at the back of the queue). A range
    that fails leaves those to the tick, which plans the broadcast again once it has gone quiet."""
    with failing_counts(broadcast_id, attempt):
        created = fanout.fan_out_range(broadcast_id, after, upto, on_batch=enqueue_delivery)
    logger.info("broadcast %s, contacts (%s, %s]: %s messages created", broadcast_id, after, upto or "", created)
    if then:
        queue_ranges(broadcast_id, then, attempt)


@shared_task(name="herald.msgs.tasks.deliver_channel")
def deliver_channel(channel_id: int, owner: str | None = None, failures: int = 0) -> None:
    """A channel's turn on the delivery pool (bounded: see `herald.msgs.delivery`); the next turn, if it needs one,
    is a new task with the lease it holds (`owner`) at the back of the queue."""
    shared_cache().delete(f"delivery-queued:{channel_id}")
    handoff = delivery.Handoff(owner, failures) if owner else None
    delivery.deliver(channel_id, handoff, hand_on=lambda h: deliver_channel.delay(channel_id, h.owner, h.failures))


@shared_task(name="herald.msgs.tasks.tick")
def tick() -> None:
    """The safety net: resume stalled broadcasts, deliver what is due (retries included)."""
    for broadcast_id in recovery.stalled_broadcasts():
        logger.info("resuming broadcast %s", broadcast_id)
        start_broadcast.delay(broadcast_id)
    enqueue_delivery(recovery.channels_with_due_messages())
