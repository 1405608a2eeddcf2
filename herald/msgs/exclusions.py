"""Why a recipient gets a message that can't go out, as the dry run reports it and the fan-out records it on the
broadcast (`Broadcast.exclusions`): the composer's failed reason, made precise where the recipient says more
(`contact` is the contact's status, `no_destination` whether it has any URN at all)."""

from .batches import STATUS_LABELS, Recipient
from .models import FailedReason, MsgStatus
from .msg_rows import NewMessage

EXCLUSIONS = ("blocked", "stopped", "archived", "no_urn", "no_channel", "too_long", "suspended")


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
