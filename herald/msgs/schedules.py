"""Repeating broadcasts: each occurrence of a schedule makes one child broadcast, which then goes out as any other.

The broadcast a schedule belongs to is the *parent*: it stays `pending` while the schedule runs and never fans out
itself (`models.due_to_begin`); every occurrence, the first one too, is a child with the parent's content and
recipients (`parent`, `occurrence`), so its groups are resolved when it is fanned out, at that occurrence. When the
schedule runs out (its `until`, its rule's UNTIL or COUNT) the parent is `completed`; ended through the API, it is
`interrupted`. A parent no longer pending (e.g. interrupted by an action) fires no more.

Exactly once per occurrence: `fire` takes the schedule's row lock, makes the child under the unique key (parent,
occurrence) and moves `next_fire` on in the same transaction; a second firer (another worker's tick, a task run
again after a crash) finds `next_fire` moved on, or loses the race on the key and makes nothing.

Firing is the tick's (`tasks.tick`, every TICK_SECONDS) and, for an occurrence that close, a task queued for its
time (`tasks.queue_fire`). Occurrences missed by an outage: the most recent one is made if it is at most GRACE old,
the older ones (and it, if older) are skipped and counted in `missed`; the schedule then goes on from now.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Broadcast, BroadcastSchedule, BroadcastStatus
from .recurrence import Recurrence

# How late an occurrence may still be made after an outage; an older one is skipped (and counted).
GRACE = timedelta(minutes=15)


class Fired(NamedTuple):
    """What one `fire` did: the child it made (or None), how many occurrences it skipped, whether the schedule ended."""

    child_id: int | None = None
    missed: int = 0
    ended: bool = False


def due_schedules(now: datetime) -> list[int]:
    """The active schedules whose next occurrence has come."""
    due = BroadcastSchedule.objects.filter(is_active=True, next_fire__lte=now)
    return list(due.order_by("next_fire").values_list("id", flat=True))


def next_fire_of(schedule_id: int) -> datetime | None:
    return BroadcastSchedule.objects.filter(id=schedule_id, is_active=True).values_list("next_fire", flat=True).first()


def fire(schedule_id: int, now: datetime | None = None) -> Fired:
    """Make the child of the schedule's due occurrence (the latest one due, if several) and move on to the next."""
    now = now or timezone.now()
    with transaction.atomic():
        schedule = (
            BroadcastSchedule.objects.select_for_update()
            .select_related("broadcast")
            .filter(id=schedule_id, is_active=True, next_fire__lte=now)
            .first()
        )
        if schedule is None or schedule.next_fire is None:
            return Fired()  # not due, or fired by another worker a moment ago
        parent = schedule.broadcast
        if parent.status == BroadcastStatus.PAUSED:  # a paused schedule skips what falls due, and goes on once resumed
            skipped = 1 + sum(1 for _ in _up_to(now, schedule.recurrence.occurrences(after=schedule.next_fire)))
            schedule.next_fire = schedule.recurrence.next_after(now)
            schedule.missed, schedule.modified_on = schedule.missed + skipped, now
            schedule.save(update_fields=["next_fire", "missed", "modified_on"])
            if schedule.next_fire is None:
                end(schedule, BroadcastStatus.COMPLETED, now)
            return Fired(None, skipped, ended=schedule.next_fire is None)
        if parent.status != BroadcastStatus.PENDING:
            end(schedule, parent.status, now)  # e.g. interrupted: its schedule stops with it
            return Fired(ended=True)
        recurrence = schedule.recurrence
        due = [schedule.next_fire, *_up_to(now, recurrence.occurrences(after=schedule.next_fire))]
        latest, missed = due[-1], len(due) - 1
        child_id = None
        if now - latest <= GRACE:
            child_id = make_child(parent, latest, now)
        else:
            missed += 1
        following = recurrence.next_after(max(now, latest))
        schedule.next_fire, schedule.missed, schedule.modified_on = following, schedule.missed + missed, now
        schedule.save(update_fields=["next_fire", "missed", "modified_on"])
        if following is None:
            end(schedule, BroadcastStatus.COMPLETED, now)
    return Fired(child_id, missed, ended=following is None)


def _up_to(now: datetime, occurrences: Iterator[datetime]) -> Iterator[datetime]:
    for occurrence in occurrences:
        if occurrence > now:
            return
        yield occurrence


def make_child(parent: Broadcast, occurrence: datetime, now: datetime) -> int | None:
    """The child broadcast of `occurrence`, with the parent's content and recipients; None if it exists already
    (another firer made it)."""
    try:
        with transaction.atomic():  # a savepoint: losing the race on the key leaves the caller's transaction usable
            child = Broadcast.objects.create(
                workspace_id=parent.workspace_id,
                status=BroadcastStatus.PENDING,
                translations=parent.translations,
                base_language=parent.base_language,
                urns=parent.urns,
                created_by_id=parent.created_by_id,
                parent=parent,
                occurrence=occurrence,
                send_at=occurrence,
                send_window=parent.send_window,
                max_per_second=parent.max_per_second,
                template_id=parent.template_id,
                template_variables=parent.template_variables,
                created_on=now,
                modified_on=now,
            )
            child.contacts.set(parent.contacts.all())
            child.groups.set(parent.groups.all())
    except IntegrityError:
        return None
    return child.id


def stop(parent_id: int, now: datetime) -> None:
    """End the schedule of a parent that was interrupted: no occurrence fires from now on."""
    BroadcastSchedule.objects.filter(broadcast_id=parent_id, is_active=True).update(
        is_active=False, next_fire=None, modified_on=now
    )


def end(schedule: BroadcastSchedule, status: str, now: datetime) -> None:
    """End the schedule; its parent, if still pending, takes `status` (completed, or interrupted when ended by
    hand)."""
    BroadcastSchedule.objects.filter(id=schedule.id).update(is_active=False, next_fire=None, modified_on=now)
    Broadcast.objects.filter(id=schedule.broadcast_id, status=BroadcastStatus.PENDING).update(
        status=status, modified_on=now
    )
    schedule.is_active, schedule.next_fire = False, None


def create(parent: Broadcast, recurrence: Recurrence, repeat: str | None) -> BroadcastSchedule:
    """The schedule of a new parent broadcast, its first occurrence next (`Recurrence.checked` made sure it has
    one)."""
    first = next(recurrence.occurrences(), None)
    return BroadcastSchedule.objects.create(
        broadcast=parent,
        repeat=repeat,
        rule=recurrence.rule,
        timezone=recurrence.timezone,
        start=recurrence.start,
        until=recurrence.until,
        next_fire=first,
        created_on=parent.created_on,
        modified_on=parent.created_on,
    )


def change(schedule: BroadcastSchedule, recurrence: Recurrence, repeat: str | None) -> BroadcastSchedule:
    """Give the schedule a new rule, timezone or end: its next occurrence is the new rule's first one from now on
    (an occurrence already made is never made again: the key). A change that leaves no occurrence ends it."""
    now = timezone.now()
    with transaction.atomic():
        locked = BroadcastSchedule.objects.select_for_update().get(id=schedule.id)
        following = recurrence.next_after(now - timedelta(microseconds=1))
        locked.repeat, locked.rule, locked.timezone = repeat, recurrence.rule, recurrence.timezone
        locked.start, locked.until, locked.next_fire, locked.modified_on = (
            recurrence.start,
            recurrence.until,
            following,
            now,
        )
        locked.save()
        if following is None:
            end(locked, BroadcastStatus.COMPLETED, now)
    return locked


def end_by_hand(schedule: BroadcastSchedule) -> None:
    """End the schedule through the API: no further occurrence; children already made go on."""
    with transaction.atomic():
        locked = BroadcastSchedule.objects.select_for_update().get(id=schedule.id)
        if locked.is_active:
            end(locked, BroadcastStatus.INTERRUPTED, timezone.now())
