"""Holding messages while their send window is closed (the window itself: `herald.workspaces.send_window`).

A queued message is due only once its `next_attempt` (if any) has come (`MsgQuerySet.due`), so a message waits by
having `next_attempt` at its window's next opening, and goes out then, at its channel's pace, like any other due
message (the tick enqueues channels with due messages). Three places set it:
- the fan-out, for messages made while the broadcast's window is closed (`opening_for`);
- the tick, when a window has closed on a broadcast with messages still waiting: one UPDATE per broadcast and
  closing (`hold_closed_broadcasts`);
- the hand-over itself: right before a message goes to its channel, `closed_at_hand_over` checks its broadcast's
  window (data read with the chunk, no query per message) and the message is recorded as waiting instead
  (`status.plan_send_result`), so a closing stops sending at once, not at the next tick.
A single message (`POST messages.json`) follows the workspace's window when it is created, unless it opts out.
"""

from datetime import UTC, datetime
from typing import Any

from django.db.models import F, Q, QuerySet

from herald.workspaces.models import Workspace
from herald.workspaces.send_window import SendWindow

from .models import Broadcast, BroadcastStatus, Msg, MsgStatus

# `window_held_until` of a completed broadcast the tick found nothing of to hold: it is not looked at again.
NOTHING_LEFT_TO_HOLD = datetime(9999, 12, 31, tzinfo=UTC)
# Statuses of messages that may still be handed over (and so must wait for the window).
WAITING = (MsgStatus.QUEUED, MsgStatus.ERRORED)


class WindowClosed(Exception):
    """What a hand-over comes to when the message's window is closed: it waits until `opens_at`, no attempt made."""

    def __init__(self, opens_at: datetime):
        super().__init__(f"send window closed until {opens_at.isoformat()}")
        self.opens_at = opens_at


def window_of(stored: dict[str, Any] | None, default_timezone: str = "UTC") -> SendWindow | None:
    return SendWindow.from_stored(stored, default_timezone) if stored else None


def workspace_window(workspace: Workspace) -> SendWindow | None:
    """The workspace's default window, its zone the workspace's unless it names one."""
    return window_of(workspace.send_window, workspace.timezone)


def opening_for(window: SendWindow | None, now: datetime) -> datetime | None:
    """When a message made at `now` may go: None at once (no window, or it is open), else the window's next
    opening."""
    return window.next_opening(now) if window else None


def waiting_until(broadcast: Broadcast, now: datetime) -> datetime | None:
    """When an unfinished broadcast's messages may next go, if its window is closed (from `send_at` on, for a
    scheduled one); None when it is sending, is finished, or has no window. A completed broadcast (every message
    made) still waits while some of its messages do, which only the tick's hold tells without reading them."""
    window = window_of(broadcast.send_window)
    if window is None or broadcast.status in (BroadcastStatus.FAILED, BroadcastStatus.INTERRUPTED):
        return None
    if broadcast.status == BroadcastStatus.COMPLETED and broadcast.window_held_until in (None, NOTHING_LEFT_TO_HOLD):
        return None
    return window.next_opening(max(now, broadcast.send_at or now))


def with_send_window(msgs: QuerySet[Msg]) -> QuerySet[Msg]:
    """`msgs` with their broadcast's window read along (attribute `broadcast_send_window`), for the hand-over check."""
    return msgs.annotate(broadcast_send_window=F("broadcast__send_window"))


# Parsed windows by broadcast id, with the JSON they came from: a chunk parses its broadcast's window once.
_parsed: dict[int, tuple[dict[str, Any], SendWindow]] = {}
_PARSED_MAX = 1000


def closed_at_hand_over(msg: Msg, now: datetime) -> WindowClosed | None:
    """WindowClosed if `msg` (read `with_send_window`) must not be handed over at `now`, else None."""
    stored = getattr(msg, "broadcast_send_window", None)
    if not stored or msg.broadcast_id is None:
        return None
    cached = _parsed.get(msg.broadcast_id)
    if cached is None or cached[0] != stored:
        if len(_parsed) >= _PARSED_MAX:
            _parsed.clear()
        cached = _parsed[msg.broadcast_id] = (stored, SendWindow.from_stored(stored))
    opens_at = cached[1].next_opening(now)
    return WindowClosed(opens_at) if opens_at else None


def hold_closed_broadcasts(now: datetime) -> int:
    """Move the waiting messages of every broadcast whose window is closed at `now` to its next opening: one UPDATE
    per broadcast and closing. Returns how many messages it moved."""
    candidates = (
        Broadcast.objects.filter(send_window__isnull=False, is_active=True)
        .exclude(status__in=(BroadcastStatus.FAILED, BroadcastStatus.INTERRUPTED))
        .filter(Q(window_held_until__isnull=True) | Q(window_held_until__lte=now))
        .values_list("id", "send_window", "status")
    )
    moved = 0
    for broadcast_id, stored, status in candidates:
        window = window_of(stored)
        opens_at = window.next_opening(now) if window else None
        if opens_at is None:
            continue
        held = (
            Msg.objects.outgoing()
            .filter(broadcast_id=broadcast_id, status__in=WAITING)
            .filter(Q(next_attempt__isnull=True) | Q(next_attempt__lt=opens_at))
            .update(next_attempt=opens_at)
        )
        moved += held
        finished = status == BroadcastStatus.COMPLETED and not held and not _any_waiting(broadcast_id)
        Broadcast.objects.filter(id=broadcast_id).update(
            window_held_until=NOTHING_LEFT_TO_HOLD if finished else opens_at
        )
    return moved


def _any_waiting(broadcast_id: int) -> bool:
    return Msg.objects.outgoing().filter(broadcast_id=broadcast_id, status__in=WAITING).exists()
