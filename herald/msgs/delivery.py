"""Handing queued messages to their channel, at the channel's pace.

One worker at a time holds a channel's send lease (a row update, so it works the same on SQLite and PostgreSQL and
across machines); the holder sends the channel's due messages a chunk at a time, concurrently within the chunk, and
never more than `tps` a second. A worker that dies lets the lease expire and the next one carries on: messages it
had on the wire at that instant may go out again, everything else is sent once.
"""

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from herald.channels.models import Channel
from herald.channels.types import get_type

from .models import Msg, MsgStatus
from .status import record_send_results

logger = logging.getLogger(__name__)

UNLIMITED_CHUNK = 100


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
        Msg.objects.filter(channel_id=channel_id, direction="O")
        .filter(due)
        .select_related("contact", "contact_urn")
        .order_by("id")[:limit]
    )


def deliver(channel_id: int) -> int:
    """Send everything due on a channel; returns how many messages were attempted."""
    owner = uuid.uuid4().hex
    if not acquire_lease(channel_id, owner):
        return 0
    try:
        channel = Channel.objects.get(id=channel_id)
        return _send_due(channel, owner)
    finally:
        release_lease(channel_id, owner)


def _send_due(channel: Channel, owner: str) -> int:
    sender = get_type(channel.channel_type)
    chunk_size = channel.tps or UNLIMITED_CHUNK
    attempted = 0
    with ThreadPoolExecutor(max_workers=settings.DELIVERY_CONCURRENCY) as pool:
        while True:
            started = time.monotonic()
            chunk = due_messages(channel.id, chunk_size, timezone.now())
            if not chunk:
                return attempted
            for msg in chunk:
                msg.channel = channel
            outcomes = list(pool.map(lambda m: _attempt(sender, channel, m), chunk))
            now = timezone.now()
            with transaction.atomic():
                record_send_results(zip(chunk, outcomes, strict=True), now)
            attempted += len(chunk)
            if not acquire_lease(channel.id, owner):  # renews it; lost only if we stalled past its expiry
                logger.warning("lost the send lease of channel %s; stopping", channel.uuid)
                return attempted
            if channel.tps:
                # A chunk is one second's allowance: wait out the rest of the second before the next.
                time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


def _attempt(sender, channel, msg):
    """The sender's result, or the exception it raised (recorded, never propagated: one bad message stops nothing)."""
    try:
        return sender.send(channel, msg)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the message
        return exc
