"""Which event types each workspace's active subscriptions want: a snapshot per process, read at most every
WEBHOOKS_SUBSCRIPTIONS_TTL seconds, so that the places where events happen (and the tick) ask the database nothing
when no subscription wants what they would tell."""

import threading
import time

from django.conf import settings

from .models import Webhook

_snapshot_lock = threading.Lock()
_snapshot: tuple[float, dict[int, frozenset[str]]] = (0.0, {})


def subscribed_types() -> dict[int, frozenset[str]]:
    """{workspace id: the event types its active subscriptions want}, at most WEBHOOKS_SUBSCRIPTIONS_TTL old."""
    global _snapshot
    with _snapshot_lock:
        expires, types = _snapshot
        if time.monotonic() < expires:
            return types
        fresh: dict[int, set[str]] = {}
        for workspace_id, events in Webhook.objects.filter(is_active=True).values_list("workspace_id", "events"):
            fresh.setdefault(workspace_id, set()).update(events)
        types = {workspace_id: frozenset(events) for workspace_id, events in fresh.items()}
        _snapshot = (time.monotonic() + settings.WEBHOOKS_SUBSCRIPTIONS_TTL, types)
        return types


def forget_subscriptions() -> None:
    """Read the subscriptions afresh next time (this process changed them)."""
    global _snapshot
    with _snapshot_lock:
        _snapshot = (0.0, {})


def wanted(workspace_id: int, event_type: str) -> bool:
    return event_type in subscribed_types().get(workspace_id, frozenset())


def wanted_anywhere(event_type: str) -> bool:
    return any(event_type in types for types in subscribed_types().values())
