"""Africa's Talking's callbacks (form POSTs, as its dashboard's SMS callback URLs send them), read into events:

- `delivery`: `id` (the message id its send answer gave: the message's external id), `status`, `phoneNumber`,
  `failureReason`. Success → delivered; Sent, Submitted, Buffered → sent; Rejected, Failed, AbsentSubscriber,
  Expired → failed, with the failure reason as the detail (UserInBlackList also stops the contact);
- `receive`: `from`, `text`, `id` (a retried callback stores one message), `date`, `to`, `linkId`;
- `optout`: `phoneNumber` opted out of the bulk sender `senderId`: the contact is stopped.
"""

from datetime import datetime

from django.http import HttpRequest

from herald.channels.base import (
    MAX_EXTERNAL_ID,
    MAX_INCOMING_TEXT,
    CallbackEvent,
    DeliveryReport,
    IncomingMessage,
    StopSignal,
)
from herald.channels.callback_requests import CallbackRejected, request_value
from herald.channels.incoming import sender_urn
from herald.channels.models import Channel

DELIVERY = "delivery"
RECEIVE = "receive"
OPTOUT = "optout"

STATUSES = {
    "Success": "delivered",
    "Sent": "sent",
    "Submitted": "sent",
    "Buffered": "sent",
    "Rejected": "failed",
    "Failed": "failed",
    "AbsentSubscriber": "failed",
    "Expired": "failed",
}
# A failure that says the number opted out.
OPTED_OUT_REASONS = {"UserInBlackList", "UserInBlacklist"}


def read(request: HttpRequest, channel: Channel, action: str) -> list[CallbackEvent]:
    if action == DELIVERY:
        return _report(request, channel)
    if action == RECEIVE:
        return [_incoming(request, channel)]
    if action == OPTOUT:
        return [StopSignal(sender_urn(channel, _required(request, "phoneNumber")))]
    raise CallbackRejected(404, f"unknown callback {action!r}: use {DELIVERY}, {RECEIVE} or {OPTOUT}")


def _required(request: HttpRequest, name: str, limit: int = MAX_EXTERNAL_ID) -> str:
    value = (request_value(request, name) or "").strip()
    if not value:
        raise CallbackRejected(400, f"field {name!r} is required")
    if len(value) > limit:
        raise CallbackRejected(400, f"{name} is longer than {limit} characters")
    return value


def _report(request: HttpRequest, channel: Channel) -> list[CallbackEvent]:
    external_id = _required(request, "id")
    status = _required(request, "status")
    if status not in STATUSES:
        raise CallbackRejected(400, f"unknown status {status[:40]!r}: Africa's Talking sends {', '.join(STATUSES)}")
    reason = (request_value(request, "failureReason") or "").strip()[:200]
    detail = f"Africa's Talking {status}" + (f": {reason}" if reason else "") if STATUSES[status] == "failed" else ""
    events: list[CallbackEvent] = [DeliveryReport(None, STATUSES[status], external_id=external_id, detail=detail)]
    number = request_value(request, "phoneNumber")
    if reason in OPTED_OUT_REASONS and number:
        events.append(StopSignal(sender_urn(channel, number)))
    return events


def _incoming(request: HttpRequest, channel: Channel) -> IncomingMessage:
    urn = sender_urn(channel, _required(request, "from"))
    text = request_value(request, "text") or ""
    if len(text) > MAX_INCOMING_TEXT:
        raise CallbackRejected(400, f"text is longer than {MAX_INCOMING_TEXT:,} characters")
    date = (request_value(request, "date") or "").strip()
    return IncomingMessage(
        urn=urn,
        text=text,
        received_on=_parse_date(date) if date else None,
        external_id=_required(request, "id"),
    )


def _parse_date(value: str) -> datetime:
    """Africa's Talking's dates: ISO 8601 in UTC, e.g. 2026-12-02T09:30:00.000Z."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        problem = f"date must be ISO 8601, e.g. 2026-12-02T09:30:00.000Z, not {value[:60]!r}"
        raise CallbackRejected(400, problem) from None
    if parsed.tzinfo is None:
        raise CallbackRejected(400, f"date must carry its time zone (e.g. a final Z), got {value[:60]!r}")
    return parsed
