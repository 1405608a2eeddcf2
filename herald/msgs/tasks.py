"""Celery tasks of the sending pipeline: wiring only. Each task hands its work to the module that owns it (`fanout`,
`delivery`, `recovery`) and queues what comes next. Each is safe to run twice: the database decides what is left to
do.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import transaction
from django.utils import timezone

from herald.contacts import group_counts

from . import control, counts, delivery, fanout, recovery, schedules, windows
from .audience import Audience

logger = logging.getLogger(__name__)


def shared_cache() -> BaseCache:
    """The cache every process of the installation sees: delivery tasks run in another process than the fan-out
    that queues them (see settings.CACHES)."""
    return caches["shared"]


# A scheduled broadcast's start is queued for its time only when that is this close: a worker holds such a task in
# memory until then (and Redis hands an unacknowledged one out again after its visibility timeout, an hour). One
# further ahead is started by the tick, which starts every pending broadcast that is due (recovery).
ETA_HORIZON = timedelta(minutes=10)


def enqueue_broadcast(broadcast_id: int, send_at: datetime | None = None) -> None:
    """Start a broadcast once the transaction that stored it has committed, or at `send_at` if it is scheduled."""
    if send_at is None:
        send_after_commit(start_broadcast, broadcast_id)
    elif send_at - timezone.now() <= ETA_HORIZON:
        send_after_commit(start_broadcast, broadcast_id, eta=send_at)


def enqueue_resumed(resumed: control.Resumed) -> None:
    """Queue what a resume left to do: the fan-out of each broadcast that had not finished it (a scheduled one at
    its time), the deliveries of its released messages."""
    for broadcast_id, send_at in resumed.starts:
        enqueue_broadcast(broadcast_id, send_at if send_at and send_at > timezone.now() else None)
    enqueue_delivery(resumed.channel_ids)


def enqueue_delivery(channel_ids: Iterable[int]) -> None:
    for channel_id in channel_ids:
        # Coalesce: one queued delivery per channel is enough, the holder drains everything due.
        queued = f"delivery-queued:{channel_id}"
        if shared_cache().add(queued, 1, timeout=5):
            send_after_commit(deliver_channel, channel_id, on_failure=partial(_forget, queued))


def _forget(key: str) -> None:
    shared_cache().delete(key)


def send_after_commit(
    task: Task[..., Any],
    *args: object,
    on_failure: Callable[[], object] | None = None,
    eta: datetime | None = None,
) -> None:
    """Queue `task` once the current transaction commits (at once outside one), to run at `eta` if given.

    The work is committed by then, and the tick finds work whose task never came (a pending broadcast, a queued
    message: `recovery`), so a task that can't be queued (broker unreachable, disk full) is logged and left to the
    tick; `on_failure()` undoes what assumed it was queued. Raising would tell the client (or the fan-out) that
    nothing happened when it did: a client retrying a "failed" POST sent the broadcast twice.
    """

    def send() -> None:
        try:
            if eta is None:
                task.delay(*args)
            else:
                task.apply_async(args, eta=eta)
        except Exception:
            logger.exception("could not queue %s%r: the tick will do it", task.name, args)
            if on_failure is not None:
                on_failure()

    transaction.on_commit(send)


@shared_task(name="herald.msgs.tasks.start_broadcast")
def start_broadcast(broadcast_id: int) -> None:
    """Fan a broadcast out: a small audience right here, a big one as ranges that several workers may share."""
    with fanout.counting_failures(broadcast_id):
        split = fanout.split_into_ranges(broadcast_id, settings.FANOUT_TASK_SIZE)  # counts the attempt it claims
    if len(split.ranges) == 1:  # here and now, with the audience the split resolved
        _fan_out(broadcast_id, *split.ranges[0], split.attempt, split.audience)
    elif split.ranges and split.attempt is not None:  # ranges come with the attempt that claimed them
        # A few strands, each range queuing the next one of its strand when it is done: a big broadcast has at most
        # FANOUT_PARALLEL_TASKS tasks in the queue, so other broadcasts' ranges take turns with its own instead of
        # waiting for all of them.
        strands = settings.FANOUT_PARALLEL_TASKS
        for first in range(min(strands, len(split.ranges))):
            queue_ranges(broadcast_id, split.ranges[first::strands], split.attempt)
        # This task's part is done; each range counts the attempt again when it begins (not while it waits).
        fanout.settle_attempt(broadcast_id, split.attempt)


def queue_ranges(broadcast_id: int, ranges: list[tuple[int, int | None]], attempt: int | None) -> None:
    """Queue a task for the first of `ranges`, which queues the next one when it is done."""
    (after, upto), *then = ranges
    send_after_commit(fan_out_range, broadcast_id, after, upto, attempt, then)


@shared_task(name="herald.msgs.tasks.fan_out_range")
def fan_out_range(
    broadcast_id: int,
    after: int,
    upto: int | None,
    attempt: int | None = None,
    then: list[tuple[int, int | None]] | tuple[()] = (),
) -> None:
    """Fan out the recipients in `(after, upto]`, then queue the ranges `then` (at the back of the queue). A range
    that fails leaves those to the tick, which plans the broadcast again once it has gone quiet."""
    _fan_out(broadcast_id, after, upto, attempt)
    if then:
        queue_ranges(broadcast_id, then, attempt)


def _fan_out(
    broadcast_id: int, after: int, upto: int | None, attempt: int | None, audience: Audience | None = None
) -> None:
    with fanout.counting_failures(broadcast_id, attempt):
        created = fanout.fan_out_range(broadcast_id, after, upto, on_batch=enqueue_delivery, audience=audience)
    logger.info("broadcast %s, contacts (%s, %s]: %s messages created", broadcast_id, after, upto or "", created)


@shared_task(name="herald.msgs.tasks.deliver_channel")
def deliver_channel(
    channel_id: int, owner: str | None = None, failures: int = 0, pace: dict[str, object] | None = None
) -> None:
    """A channel's turn on the delivery pool (bounded: see `herald.msgs.delivery`); the next turn, if it needs one,
    is a new task with the lease it holds (`owner`) and the pace of its last second at the back of the queue."""
    shared_cache().delete(f"delivery-queued:{channel_id}")
    handoff = delivery.Handoff(owner, failures, pace) if owner else None
    delivery.deliver(
        channel_id, handoff, hand_on=lambda h: deliver_channel.delay(channel_id, h.owner, h.failures, h.pace)
    )


def queue_fire(schedule_id: int, next_fire: datetime | None) -> None:
    """Fire a schedule's next occurrence at its time, when that is within ETA_HORIZON (else the tick does it; it
    does too if this task is lost)."""
    if next_fire is not None and next_fire - timezone.now() <= ETA_HORIZON:
        send_after_commit(fire_schedule, schedule_id, eta=next_fire)


@shared_task(name="herald.msgs.tasks.fire_schedule")
def fire_schedule(schedule_id: int) -> None:
    """Make the child of a schedule's due occurrence and start it (once, however many run this: `schedules`)."""
    fired = schedules.fire(schedule_id)
    if fired.child_id is not None:
        enqueue_broadcast(fired.child_id)
    if fired.missed:
        logger.warning("schedule %s: %s occurrences missed (an outage), skipped", schedule_id, fired.missed)
    if (fired.child_id is not None or fired.missed) and not fired.ended:  # only the firer that moved it on
        queue_fire(schedule_id, schedules.next_fire_of(schedule_id))


@shared_task(name="herald.msgs.tasks.tick")
def tick() -> None:
    """The safety net: resume stalled broadcasts, expire those whose `expire_at` has passed, fire due schedules,
    hold the messages of broadcasts whose send window has closed, deliver what is due (retries included, and
    messages whose window has opened); and fold a few broadcasts' and groups' count deltas, so reading counts
    stays cheap."""
    windows.hold_closed_broadcasts(timezone.now())
    for broadcast_id in recovery.stalled_broadcasts():
        logger.info("resuming broadcast %s", broadcast_id)
        start_broadcast.delay(broadcast_id)
    for schedule_id in schedules.due_schedules(timezone.now()):
        try:
            fire_schedule(schedule_id)  # a call, not a message: here and now
        except Exception:  # one schedule that can't fire must not keep the tick from the rest (deliveries too)
            logger.exception("schedule %s could not fire: the next tick tries again", schedule_id)
    for broadcast_id in control.expiring(timezone.now()):
        if control.expire(broadcast_id, timezone.now()):  # its fan-out goes on, writing the rest expired
            start_broadcast.delay(broadcast_id)
    enqueue_delivery(recovery.channels_with_due_messages())
    counts.squash()  # last: the safety net above never waits on them
    group_counts.squash()
