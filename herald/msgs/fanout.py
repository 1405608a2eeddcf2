"""Turning a broadcast into one message per recipient: walking its audience.

Recipients (`audience`) are walked in contact-id order, a batch at a time (keyset: `id > last`), so memory stays
flat however big the audience is. A batch is loaded in a few queries (`batches`), its messages are composed in plain
Python (`compose`, no model instances) and written with one statement (`msg_rows`).

Several workers can share one broadcast: `split_into_ranges()` cuts the audience into contact-id ranges, which
separate tasks fan out at the same time (`tasks.fan_out_range`). Batches only pick recipients that have no message
yet, so running a range again, or resuming after a crash, is simply running it again. Each batch commits together
with the broadcast's progress under a lock on the broadcast row and re-checks inside that lock which of its contacts
got a message in the meantime; the unique (broadcast, contact) key backs that up. So a batch that runs twice, or two
tasks on one range, never create a message twice. The broadcast is completed by whichever task finds, under the
same lock, that no recipient is left without a message.

A fan-out that can't finish must not be retried forever (the tick resumes a stalled broadcast every
BROADCAST_STALL_SECONDS). `failures` counts the attempts in a row that failed, and an attempt is counted as failed
while it works: from when it is claimed (`split_into_ranges`) or one of its range tasks begins (`count_attempt`)
until that task ends (`settle_attempt`) or a batch of messages is written (which clears the count); each task runs
inside `counting_failures`, which does both. So an attempt whose worker is killed (the kernel's OOM killer leaves no
exception to count) stays counted, like one that ends in an error; a worker killed once in the middle of a big
fan-out costs nothing (the batches it wrote cleared the count); range tasks still waiting in a busy queue count
nothing. After BROADCAST_MAX_FAILURES failed attempts in a row the broadcast is failed instead of claimed again.
Each attempt has a number (how many failed before it), which its tasks carry: the count moves only from that number
to the next and back, so one worker dying with four ranges of a broadcast in its threads is one failure, not four.
"""

import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Case, Exists, F, OuterRef, QuerySet, Value, When
from django.utils import timezone

from herald.contacts.models import Contact
from herald.webhooks import events

from . import control, windows
from .audience import Audience
from .batches import Recipient, load_batch
from .compose import MessageComposer
from .exclusions import LEFT_OUT_KEY, exclusion, left_out, with_excluded
from .models import Broadcast, BroadcastStatus, Msg, MsgStatus, due_to_begin
from .msg_rows import NewMessage, insert_messages

# Told the channels a batch gave messages to send (the fan-out task queues their delivery).
OnBatch = Callable[[set[int]], None]

logger = logging.getLogger(__name__)


class Split(NamedTuple):
    """An attempt at a broadcast's fan-out: its number (None when there is no attempt to make) and its ranges, with
    the audience resolved for them (so the task that runs a lone range at once needn't resolve it again)."""

    attempt: int | None
    ranges: list[tuple[int, int | None]]
    audience: Audience | None = None


NOTHING_TO_DO = Split(None, [])


def split_into_ranges(broadcast_id: int, range_size: int) -> Split:
    """Claim a broadcast's fan-out (an attempt, counted as failed until it settles) and cut what is left of it into
    contact-id ranges `(after, upto]` of about `range_size` recipients each, the last one open-ended (`upto` None).

    No ranges when there is nothing to do: the broadcast is finished, another task planned it moments ago (a
    duplicate start), its fan-out failed too often (it is failed here), or every recipient has a message (then the
    broadcast is completed here).
    """
    begun = _begin(broadcast_id)
    if begun is None:
        return NOTHING_TO_DO
    broadcast, audience, attempt = begun
    if not _any_pending(broadcast, audience):
        _complete(broadcast)
        return NOTHING_TO_DO
    # Group members make up big audiences: cut where every `range_size`-th member without a message is (the few
    # direct recipients fall in whichever range holds their id). Keyset: one id read back per range.
    ranges, after = [], 0
    while True:
        members = _pending(broadcast, audience.members(after), after).order_by("id").values_list("id", flat=True)
        upto = next(iter(members[range_size - 1 : range_size]), None)
        ranges.append((after, upto))
        if upto is None:
            return Split(attempt, ranges, audience)
        after = upto


def count_attempt(broadcast_id: int, attempt: int) -> None:
    """A task of attempt number `attempt` begins: the attempt counts as failed, unless another of its tasks (or its
    claim) counted it already, or messages were written since it was claimed."""
    Broadcast.objects.filter(id=broadcast_id, failures=attempt).update(failures=attempt + 1)


def settle_attempt(broadcast_id: int, attempt: int) -> None:
    """A task of attempt number `attempt` ended without an error: the attempt doesn't count (if nothing else
    moved the count meanwhile)."""
    Broadcast.objects.filter(id=broadcast_id, failures=attempt + 1).update(failures=attempt)


@contextlib.contextmanager
def counting_failures(broadcast_id: int, attempt: int | None = None) -> Iterator[None]:
    """An error while fanning a broadcast out is retried by the tick; one that keeps coming back (a bug, bad data)
    fails the broadcast after settings.BROADCAST_MAX_FAILURES attempts instead of retrying forever.

    The task's attempt (number `attempt`) counts as failed from its start until it ends without an error, so that a
    worker killed in the middle of it counts too; an error fails the broadcast at once when it ends the last attempt
    allowed. A database that is down or busy doesn't count (the attempt is settled, if the database lets us): that
    is what retrying is for."""
    if attempt is not None:
        count_attempt(broadcast_id, attempt)
    try:
        yield
    except (OperationalError, InterfaceError):
        with contextlib.suppress(OperationalError, InterfaceError):
            if attempt is not None:
                settle_attempt(broadcast_id, attempt)
            else:  # the split into ranges: its claim counted an attempt whose number went down with the error
                Broadcast.objects.filter(id=broadcast_id, failures__gt=0).update(failures=F("failures") - 1)
        raise
    except Exception:
        logger.exception("fan-out of broadcast %s failed", broadcast_id)
        unfinished = [BroadcastStatus.PENDING, BroadcastStatus.QUEUED, BroadcastStatus.STARTED]
        failing = Broadcast.objects.filter(
            id=broadcast_id, status__in=unfinished, failures__gte=settings.BROADCAST_MAX_FAILURES
        )
        if _fail(failing, broadcast_id, timezone.now()):
            logger.error("broadcast %s failed: its fan-out kept failing", broadcast_id)
        raise
    if attempt is not None:
        settle_attempt(broadcast_id, attempt)


def fan_out_range(
    broadcast_id: int,
    after: int,
    upto: int | None,
    on_batch: OnBatch | None = None,
    audience: Audience | None = None,
) -> int:
    """Create the messages of the recipients with `after < id <= upto` (no upper bound if `upto` is None), then
    complete the broadcast if nobody is left without a message. Returns how many messages this call created.
    `audience`: the broadcast's, if the caller resolved it moments ago (`Split.audience`)."""
    broadcast = Broadcast.objects.select_related("workspace").get(id=broadcast_id)
    if broadcast.status not in Broadcast.IN_PROGRESS:  # finished, or paused (resume starts it again: control.py)
        return 0
    audience = audience or Audience(broadcast)
    created = _walk(MessageComposer(broadcast), audience, after, upto, on_batch)
    complete_if_done(broadcast, audience)
    return created


def _begin(broadcast_id: int) -> tuple[Broadcast, Audience, int] | None:
    """(broadcast, its audience, the attempt's number) for the task that begins an attempt at the fan-out, or None
    when there is nothing for this one to do. A pending broadcast is claimed (see `_claim`) and its recipients
    counted; a started one that went quiet (its tasks were lost, or its worker died) is claimed again (and counted,
    if the attempt that claimed it died before it could)."""
    broadcast = Broadcast.objects.select_related("workspace").get(id=broadcast_id)
    if broadcast.status in Broadcast.FINISHED:
        return None
    pending = broadcast.status == BroadcastStatus.PENDING
    # Claimed before anything else is done: whatever follows (resolving the audience too) is part of it.
    attempt = _claim(broadcast, pending)
    if attempt is None:
        return None
    audience = Audience(broadcast)
    if pending or broadcast.contact_count is None:
        # No batch is written before this (the ranges come after): the recorded exclusions can't change meanwhile.
        recorded = {**(broadcast.exclusions or {}), LEFT_OUT_KEY: left_out(audience)}
        Broadcast.objects.filter(id=broadcast.id).update(contact_count=audience.contacts().count(), exclusions=recorded)
    return broadcast, audience, attempt


def _claim(broadcast: Broadcast, pending: bool) -> int | None:
    """The number of the attempt it begins, for the one task that begins the next attempt: the one that moves the
    broadcast out of pending, or, for a started one, the first to find it quiet (this touches `modified_on`, so a
    duplicate start right after finds it busy); None for any other. The attempt counts as failed from here until
    it settles. When the attempts allowed have all failed, the broadcast is failed instead."""
    now = timezone.now()
    if pending:
        # A scheduled broadcast is not claimed before its time, whoever asks (an early task, the tick).
        claimable = Broadcast.objects.filter(id=broadcast.id, status=BroadcastStatus.PENDING).filter(due_to_begin(now))
        changes = {"status": BroadcastStatus.QUEUED}
    else:
        quiet_since = now - timedelta(seconds=settings.BROADCAST_STALL_SECONDS)
        claimable = Broadcast.objects.filter(
            id=broadcast.id, status__in=Broadcast.IN_PROGRESS, modified_on__lt=quiet_since
        )
        changes = {}
    failed_before = claimable.values_list("failures", flat=True).first()
    if failed_before is None:
        return None
    limit = settings.BROADCAST_MAX_FAILURES
    if failed_before >= limit:
        if _fail(claimable, broadcast.id, now, broadcast.workspace_id):
            logger.error("broadcast %s failed: %s fan-out attempts in a row failed", broadcast.id, limit)
        return None
    # Compare-and-set on the count too: of two tasks finding the broadcast claimable at once, one wins.
    won = claimable.filter(failures=failed_before).update(failures=failed_before + 1, modified_on=now, **changes)
    return failed_before if won else None


def _pending(
    broadcast: Broadcast, contacts: QuerySet[Contact], after: int = 0, upto: int | None = None
) -> QuerySet[Contact]:
    """Those of `contacts` that have no message of this broadcast yet. `after` and `upto` repeat the contacts' id
    bounds inside: PostgreSQL then starts its scan of the messages at `after` rather than at the first one."""
    has_message = Msg.objects.filter(broadcast_id=broadcast.id, contact_id=OuterRef("id"), contact_id__gt=after)
    if upto is not None:
        has_message = has_message.filter(contact_id__lte=upto)
    return contacts.filter(~Exists(has_message))


def _any_pending(broadcast: Broadcast, audience: Audience) -> bool:
    return any(_pending(broadcast, part).exists() for part in (audience.direct(), audience.members()))


def _walk(composer: MessageComposer, audience: Audience, after: int, upto: int | None, on_batch: OnBatch | None) -> int:
    """Create the messages of the recipients in `(after, upto]`: the direct ones, then the group members. Returns
    how many it created."""
    batch_size = settings.FANOUT_BATCH_SIZE
    created = 0
    for part in (audience.direct, audience.members):
        cursor = after
        while True:
            # The part is rebuilt from the cursor each time so that every bound in its query moves along.
            page = _pending(composer.broadcast, part(cursor, upto), cursor, upto).order_by("id")[:batch_size]
            batch = load_batch(page, composer.needs_groups)
            if not batch:
                break
            new, go_on = write_batch(composer, batch)
            created += len(new)
            channel_ids = channels_with_work(new)
            if on_batch and channel_ids:
                on_batch(channel_ids)
            if not go_on:  # paused or ended meanwhile
                return created
            cursor = batch[-1].id
    return created


def write_batch(composer: MessageComposer, batch: list[Recipient]) -> tuple[list[NewMessage], bool]:
    """Compose and store one batch's messages, with the broadcast's progress; returns the messages it created (none
    for recipients that had theirs already), and whether the fan-out goes on: a broadcast paused or ended meanwhile
    gets this batch held, or nothing (`control.batch_fate`)."""
    messages = [composer.new_message(recipient) for recipient in batch]
    broadcast_id = composer.broadcast.id
    now = timezone.now()
    with transaction.atomic():
        # Serialises the batches of one broadcast, so the "already has one" check and the progress stay exact.
        current_status, expire_at, exclusions = _lock(broadcast_id, "status", "expire_at", "exclusions")
        fate = control.batch_fate(current_status)
        if not fate.written:
            return [], False
        # Asked by id range rather than by a list of ids: the batch is in id order.
        made = Msg.objects.filter(broadcast_id=broadcast_id, contact_id__gte=batch[0].id, contact_id__lte=batch[-1].id)
        done = set(made.values_list("contact_id", flat=True))
        new = [m for m in messages if m.contact_id not in done] if done else messages
        new = control.as_written(new, current_status, expire_at, now)
        # Made while its send window is closed: they wait for its opening (msgs/windows.py). Failed ones carry it
        # too, unread: only a queued or errored message is ever due.
        waiting = {"next_attempt": opens_at} if (opens_at := windows.opening_for(composer.window, now)) else {}
        insert_messages(
            new,
            workspace_id=composer.workspace.id,
            broadcast_id=broadcast_id,
            created_on=now,
            modified_on=now,
            **waiting,
        )
        # Counted with the messages they explain, in the same transaction: a batch run again adds nothing.
        excluded = Counter(
            reason
            for recipient, message in zip(batch, messages, strict=True)
            if message.contact_id not in done and (reason := exclusion(message, recipient)) is not None
        )
        changes = {"exclusions": with_excluded(exclusions, excluded)} if excluded else {}
        Broadcast.objects.filter(id=broadcast_id).update(
            **({"window_held_until": opens_at} if waiting else {}),
            msg_count=F("msg_count") + len(new),
            modified_on=now,
            status=Case(When(status=BroadcastStatus.QUEUED, then=Value(BroadcastStatus.STARTED)), default=F("status")),
            failures=0,  # the fan-out works: a failure of this attempt from now on is counted afresh
            **changes,
        )
        if current_status == BroadcastStatus.QUEUED:  # Event: this batch started the broadcast.
            events.broadcast_event(composer.workspace.id, broadcast_id, "broadcast.started")
    return new, fate.go_on


def channels_with_work(messages: list[NewMessage]) -> set[int]:
    return {m.channel_id for m in messages if m.status == MsgStatus.QUEUED and m.channel_id}


def complete_if_done(broadcast: Broadcast, audience: Audience) -> bool:
    """Complete the broadcast if every recipient has a message; True if it is completed now."""
    with transaction.atomic():
        status: str
        status, msg_count, contact_count = _lock(broadcast.id, "status", "msg_count", "contact_count")
        if status not in Broadcast.IN_PROGRESS:
            return status == BroadcastStatus.COMPLETED
        # The count is cheap and usually says "not yet"; the recipients themselves have the last word (the
        # audience may have changed since it was counted).
        if msg_count < (contact_count or 0) or _any_pending(broadcast, audience):
            return False
        _complete(broadcast)
        return True


def _lock(broadcast_id: int, *fields: str) -> tuple[Any, ...]:
    """Lock the broadcast's row (until the transaction ends); returns its `fields` as they are now."""
    locked = Broadcast.objects.select_for_update().filter(id=broadcast_id)
    row: tuple[Any, ...] = locked.values_list("id", *fields).get()
    return row[1:]


def _complete(broadcast: Broadcast) -> None:
    with transaction.atomic():
        completed = Broadcast.objects.filter(id=broadcast.id, status__in=Broadcast.IN_PROGRESS).update(
            status=BroadcastStatus.COMPLETED, modified_on=timezone.now(), failures=0
        )
        if completed:  # Event, with the change: one per broadcast, however many workers complete it.
            events.broadcast_event(broadcast.workspace_id, broadcast.id, "broadcast.completed")


def _fail(failing: QuerySet[Broadcast], broadcast_id: int, now: datetime, workspace_id: int | None = None) -> bool:
    """Fail the broadcast if `failing` still selects it; whether it did."""
    with transaction.atomic():
        if not failing.update(status=BroadcastStatus.FAILED, modified_on=now):
            return False
        if events.wanted_anywhere("broadcast.failed"):  # Event, with the change.
            if workspace_id is None:
                workspace_id = Broadcast.objects.values_list("workspace_id", flat=True).get(id=broadcast_id)
            events.broadcast_event(workspace_id, broadcast_id, "broadcast.failed")
        return True
