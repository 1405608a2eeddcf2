"""Who a broadcast leaves out, and why: the one owner of the categories that a dry run and a broadcast's `counts`
both report, under the same names (`figures`).

- `excluded`: recipients given a message that can't go out (made failed at fan-out), by why: the composer's failed
  reason, made precise where the recipient says more (`contact` is the contact's status, `no_destination` whether
  it has any URN at all). The fan-out records them on the broadcast (`Broadcast.exclusions`) batch by batch.
- `left_out`: members of the addressed groups who get no message at all because they aren't active (stopped or
  archived; blocked ones leave their groups), by status; counted when the fan-out begins and kept on the broadcast
  under LEFT_OUT_KEY, counted the same way by a dry run.
"""

from collections.abc import Mapping
from typing import Any

from django.db.models import Count

from .audience import Audience
from .batches import STATUS_LABELS, Recipient
from .models import FailedReason, MsgStatus
from .msg_rows import NewMessage

EXCLUSIONS = ("blocked", "stopped", "archived", "no_urn", "no_channel", "too_long", "suspended")
LEFT_OUT = ("stopped", "archived", "blocked")
# Where `Broadcast.exclusions` keeps the left-out counts, beside the excluded ones (keyed by EXCLUSIONS' names).
LEFT_OUT_KEY = "left_out"


def exclusion(message: NewMessage, recipient: Recipient) -> str | None:
    """The reason (one of EXCLUSIONS) that `message` to `recipient` fails, or None when it would be sent."""
    if message.status == MsgStatus.QUEUED or message.failed_reason is None:
        return None
    reason = FailedReason(message.failed_reason)
    if reason == FailedReason.CONTACT:
        return STATUS_LABELS[recipient.status]
    if reason == FailedReason.NO_DESTINATION:
        return "no_channel" if recipient.urns else "no_urn"
    return reason.name.lower()


def left_out(audience: Audience) -> dict[str, int]:
    """The addressed groups' members who get no message because they aren't active, by status (LEFT_OUT)."""
    per_status = audience.left_out().order_by().values("status").annotate(n=Count("id"))
    by_label = {STATUS_LABELS[status]: n for status, n in per_status.values_list("status", "n")}
    return {label: by_label.get(label, 0) for label in LEFT_OUT}


def figures(excluded: Mapping[str, Any], left: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """The `excluded` and `left_out` objects as both answers show them: every name, in order, 0 when absent."""
    return {
        "excluded": {name: int(excluded.get(name, 0)) for name in EXCLUSIONS},
        "left_out": {name: int(left.get(name, 0)) for name in LEFT_OUT},
    }


def with_excluded(recorded: Mapping[str, Any] | None, excluded: Mapping[str, int]) -> dict[str, Any]:
    """What `Broadcast.exclusions` becomes when a batch excludes `excluded` more (its left-out counts kept)."""
    merged = dict(recorded or {})
    for name, n in excluded.items():
        merged[name] = merged.get(name, 0) + n
    return merged


def recorded_figures(recorded: Mapping[str, Any] | None) -> dict[str, dict[str, int]]:
    """`figures` of what the fan-out recorded on a broadcast (`Broadcast.exclusions`)."""
    recorded = recorded or {}
    return figures(recorded, recorded.get(LEFT_OUT_KEY) or {})
