"""How the rest of Herald tells that something happened: the event outbox. Each `emit` runs inside the transaction
of the change that causes it (the caller's), so the event and the change commit together or not at all.

- A workspace without a subscription that wants the event pays nothing: `wanted` answers from a snapshot of every
  active subscription's event types, read at most every WEBHOOKS_SUBSCRIPTIONS_TTL seconds per process
  (`subscribed`).
- `broadcast.*` events carry the broadcast's id as their subject, under a unique (type, subject) key: of two workers
  that both complete a broadcast (or a worker that dies after completing it and is replayed), one event stands.
- `message.status` events are batched: one event per recorded batch of outcomes and per status they moved messages
  to (at most MAX_MESSAGES_PER_EVENT messages each), not one row per message per change.

The event's `data` is the object as the API shows it (`payloads`), rendered here, in the transaction.

Where each event comes from: `broadcast.started` / `completed` / `failed` from herald/msgs/fanout.py (the batch that
starts it, `_complete`, `_fail`), `message.status` from herald/msgs/status.py. Still to be called by the features
that bring them: `broadcast_event(..., "broadcast.interrupted")` in the transaction that interrupts a broadcast, and
`message_received` in the one that stores an incoming message.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from herald.workspaces.models import Workspace

from . import payloads, tasks
from .models import Delivery, Event, Webhook
from .subscribed import forget_subscriptions, subscribed_types, wanted, wanted_anywhere

__all__ = ["emit", "forget_subscriptions", "subscribed_types", "wanted", "wanted_anywhere"]

MAX_MESSAGES_PER_EVENT = 100


def emit(
    workspace_id: int,
    event_type: str,
    render: Callable[[Workspace], dict[str, Any]],
    *,
    subject_id: int | None = None,
    status: str | None = None,
) -> Event | None:
    """Write an event for the subscriptions that want it (none: nothing is written) and queue their deliveries once
    the transaction commits. `render(workspace)` makes its data. With `subject_id`, at most one event of this type
    about that subject is ever written: a second call writes nothing (and returns None)."""
    if not wanted(workspace_id, event_type):
        return None
    subscriptions = Webhook.objects.filter(workspace_id=workspace_id, is_active=True).only("id", "events", "statuses")
    targets = [w.id for w in subscriptions if w.wants(event_type, status)]
    if not targets:
        return None
    workspace = Workspace.objects.get(id=workspace_id)
    data = json.loads(json.dumps(render(workspace), cls=DjangoJSONEncoder))
    now = timezone.now()
    event = Event(workspace_id=workspace_id, type=event_type, data=data, subject_id=subject_id, created_on=now)
    with transaction.atomic():
        if subject_id is None:
            event.save()
        else:
            # Tolerates the conflict: a concurrent writer of the same event waits for ours and writes nothing.
            Event.objects.bulk_create([event], ignore_conflicts=True)
            event.pk = Event.objects.filter(uuid=event.uuid).values_list("id", flat=True).first()
            if event.pk is None:
                return None
        Delivery.objects.bulk_create(
            [Delivery(webhook_id=target, event_id=event.pk, next_attempt=now, created_on=now) for target in targets]
        )
    transaction.on_commit(lambda: tasks.enqueue(targets))
    return event


# What the rest of Herald calls. ---------------------------------------------------------------------------------


def broadcast_event(workspace_id: int, broadcast_id: int, event_type: str) -> Event | None:
    """`broadcast.started` / `completed` / `interrupted` / `failed`, inside the transaction that changed the
    broadcast's status; one event per broadcast and type, however often it is called."""
    return emit(
        workspace_id,
        event_type,
        lambda workspace: payloads.render("broadcast", workspace, [broadcast_id])[0],
        subject_id=broadcast_id,
    )


def message_statuses(workspace_id: int, ids_by_status: Mapping[str, Sequence[int]]) -> None:
    """`message.status`: the messages that moved to each status (API names: wired, delivered, ...), inside the
    transaction that moved them; one event per status and MAX_MESSAGES_PER_EVENT messages."""
    if not wanted(workspace_id, "message.status"):
        return
    for status, ids in ids_by_status.items():
        ordered = sorted(ids)
        for start in range(0, len(ordered), MAX_MESSAGES_PER_EVENT):
            chunk = ordered[start : start + MAX_MESSAGES_PER_EVENT]
            emit(workspace_id, "message.status", _messages_with_status(status, chunk), status=status)


def message_received(workspace_id: int, msg_id: int) -> Event | None:
    """`message.received`: the hook for inbound messages, to be called in the transaction that stores one."""
    return emit(workspace_id, "message.received", lambda workspace: payloads.render("message", workspace, [msg_id])[0])


def _messages_with_status(status: str, ids: Sequence[int]) -> Callable[[Workspace], dict[str, Any]]:
    def render(workspace: Workspace) -> dict[str, Any]:
        return {"status": status, "messages": payloads.render("message", workspace, ids)}

    return render
