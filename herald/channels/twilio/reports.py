"""Twilio's StatusCallback (`/c/tw/<channel uuid>/<secret>/status?id=<msg uuid>`): a message's status, mapped to
Herald's forward-only ones. Twilio's `queued`, `accepted`, `sending` and the like say nothing Herald doesn't know
(the message is already handed over), so they change nothing."""

import uuid

from django.http import HttpRequest, QueryDict

from herald.channels.base import CallbackEvent, DeliveryReport, StopSignal
from herald.channels.callback_requests import CallbackRejected
from herald.channels.incoming import sender_urn
from herald.channels.models import Channel
from herald.channels.twilio.params import required, signed_params

STATUS = "status"
# Twilio's error for a message to a number that replied STOP: the contact opted out.
UNSUBSCRIBED = "21610"

_STATUSES = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "failed",
    "failed": "failed",
    # A scheduled message canceled will never go; some parts of one arrived: it is on its way.
    "canceled": "failed",
    "partially_delivered": "sent",
}
# What Twilio reports before a message reaches the carrier: nothing to record.
_EARLY = {"accepted", "scheduled", "queued", "sending", "receiving", "received"}


def read_status(request: HttpRequest, channel: Channel) -> list[CallbackEvent]:
    params = signed_params(request, channel)
    status = required(params, "MessageStatus").lower()
    if status in _EARLY:
        return []
    if status not in _STATUSES:
        raise CallbackRejected(400, f"unknown MessageStatus {status[:50]!r}")
    report = DeliveryReport(
        _msg_uuid(request.GET.get("id")),
        _STATUSES[status],
        external_id=required(params, "MessageSid"),
        detail=_detail(params) if _STATUSES[status] == "failed" else "",
    )
    if params.get("ErrorCode") == UNSUBSCRIBED and params.get("To"):
        return [report, StopSignal(sender_urn(channel, str(params["To"])))]
    return [report]


def _msg_uuid(value: str | None) -> uuid.UUID | None:
    """The message's UUID Herald put in the StatusCallback URL; None: found by Twilio's MessageSid instead."""
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CallbackRejected(400, f"id {value[:50]!r} is not a message UUID") from None


def _detail(params: QueryDict) -> str:
    code = (params.get("ErrorCode") or "").strip()
    message = (params.get("ErrorMessage") or "").strip()
    detail = f"Twilio error {code}" if code else f"Twilio reported the message {str(params['MessageStatus']).lower()}"
    return f"{detail}: {message}" if message else detail
