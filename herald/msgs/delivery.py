"""Handing queued messages to their channel, at the channel's pace.

One worker at a time holds a channel's send lease (a row update, so it works the same on SQLite and PostgreSQL and
across machines; renewed in the background while it sends, however slow the gateway). The holder sends the
channel's due messages a chunk at a time, concurrently within the chunk, never more than `tps` a second, and records
outcomes as they come in, a few at a time. A worker that dies lets the lease expire and the next one carries on:
messages it had on the wire at that instant (at most about twice `DELIVERY_CONCURRENCY`: those in flight and those
whose answer was not yet recorded) may go out again, everything else is sent once. A worker asked to stop finishes
the chunk on the wire, then lets go of the channel.
"""

import contextlib
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from herald.channels.models import Channel
from herald.channels.types import get_type

from .models import Msg, MsgStatus
from .status import record_send_results

logger = logging.getLogger(__name__)

UNLIMITED_CHUNK = 100

# Set when the worker is shutting down (see herald/celery.py): delivery loops stop after their current chunk.
_stopping = threading.Event()


def stop_soon() -> None:
    _stopping.set()


def acquire_lease(channel_id: int, owner: str) -> bool:
    now = timezone.now()
    free = Q(send_lease_until__isnull=True) | Q(send_lease_until__lt=now) | Q(send_lease_owner=owner)
    taken = (
        Channel.objects.filter(id=channel_id, is_active=True)
        .filter(free)
        .update(send_lease_owner=owner, send_lease_until=now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS))
    )
    return taken == 1


def release_lease(channel_id: int, owner: str) -> None:
    Channel.objects.filter(id=channel_id, send_lease_owner=owner).update(send_lease_owner="", send_lease_until=None)


def due_messages(channel_id: int, limit: int, now) -> list[Msg]:
    due = Q(status=MsgStatus.QUEUED) | Q(status=MsgStatus.ERRORED, next_attempt__lte=now)
    return list(
        # A channel disabled while its sender holds the lease has nothing due from the next chunk on.
        Msg.objects.filter(channel_id=channel_id, channel__is_active=True, direction="O")
        .filter(due)
        .select_related("contact", "contact_urn")
        .order_by("id")[:limit]
    )


@contextlib.contextmanager
def kept_lease(channel_id: int, owner: str):
    """Renew the lease in the background (three times per lease length) while the body sends: however slow the
    gateway, a live sender's lease never runs out, only a dead one's does. Yields an event set if it was lost."""
    lost, done = threading.Event(), threading.Event()

    def renew():
        try:
            while not done.wait(settings.DELIVERY_LEASE_SECONDS / 3):
                if not acquire_lease(channel_id, owner):
                    lost.set()
                    return
        except Exception:
            logger.exception("could not renew the send lease of channel %s", channel_id)
            lost.set()
        finally:
            connection.close()  # this thread's own

    keeper = threading.Thread(target=renew, name=f"send-lease-{channel_id}", daemon=True)
    keeper.start()
    try:
        yield lost
    finally:
        done.set()
        keeper.join()


def deliver(channel_id: int) -> int:
    """Send everything due on a channel; returns how many messages were attempted."""
    owner = uuid.uuid4().hex
    if not acquire_lease(channel_id, owner):
        return 0
    try:
        channel = Channel.objects.get(id=channel_id)
        with kept_lease(channel_id, owner) as lost:
            return _send_due(channel, lost)
    finally:
        release_lease(channel_id, owner)


def _send_due(channel: Channel, lease_lost: threading.Event) -> int:
    sender = get_type(channel.channel_type)
    chunk_size = channel.tps or UNLIMITED_CHUNK
    attempted = 0
    with ThreadPoolExecutor(max_workers=settings.DELIVERY_CONCURRENCY) as pool:
        while True:
            chunk = due_messages(channel.id, chunk_size, timezone.now())
            if not chunk:
                return attempted
            # Timed from the first send, not from the query before it: a slow query followed by a fast one would
            # otherwise let two chunks' sends fall within one second.
            started = time.monotonic()
            for msg in chunk:
                msg.channel = channel
            _send_chunk(pool, sender, channel, chunk, started)
            attempted += len(chunk)
            if _stopping.is_set():
                logger.info("worker stopping: leaving channel %s to the next one", channel.uuid)
                return attempted
            if lease_lost.is_set():
                logger.warning("lost the send lease of channel %s; stopping", channel.uuid)
                return attempted
            if channel.tps:
                # A chunk is one second's allowance: wait out the rest of the second before the next.
                time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


def _send_chunk(pool: ThreadPoolExecutor, sender, channel: Channel, chunk: list[Msg], started: float) -> None:
    """Send a chunk concurrently and record the outcomes as they arrive, a pool's worth per transaction: few
    writes, and a crash can only repeat the sends it had on the wire or had just heard back about.

    On a rate-limited channel the sends are spread evenly over the chunk's second (the i-th not before
    `started + i / tps`), so no one-second window ever sees more than `tps`, not only each chunk's second."""
    spacing = 1.0 / channel.tps if channel.tps else 0.0
    futures = {pool.submit(_attempt, sender, channel, msg, started + i * spacing): msg for i, msg in enumerate(chunk)}
    answered = []
    waiting = len(futures)
    for future in as_completed(futures):
        answered.append((futures[future], future.result()))
        waiting -= 1
        if len(answered) >= settings.DELIVERY_CONCURRENCY or not waiting:
            with transaction.atomic():
                record_send_results(answered, timezone.now())
            answered = []


def _attempt(sender, channel, msg, not_before: float):
    """The sender's result, or the exception it raised (recorded, never propagated: one bad message stops nothing)."""
    delay = not_before - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    try:
        return sender.send(channel, msg)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the message
        return exc
