"""What Vonage calls back with, read into Herald's events (the SMS API's webhooks, GET or POST, in the query string,
a form or a JSON body, as the account's dashboard sets them):

- `receipt`, the delivery receipt of a message Herald sent with `callback` = this URL: `messageId`, `status`,
  `err-code`, and `client-ref`, which Herald set to the message's UUID. The message is found by `client-ref` (every
  part of a long message carries it), else by `messageId` (the first part's is the message's `external_id`);
- `receive`, an incoming message to one of the account's numbers: `msisdn` (the sender, international, no `+`),
  `to`, `messageId`, `text`, `type`, `message-timestamp`. A long message arrives as several requests (`concat`,
  `concat-ref`, `concat-part`, `concat-total`): each part is stored as its own message, as courier does.

With a `signature_secret`, each must be signed (signature.py): a wrong or missing signature is a 403 and nothing
changes. How this differs from courier's `handlers/nexmo` is docs/COMPATIBILITY.md, C72.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest

from herald.channels.base import MAX_EXTERNAL_ID, MAX_INCOMING_TEXT, CallbackEvents, DeliveryReport, IncomingMessage
from herald.channels.callback_requests import CallbackRejected, request_body
from herald.channels.incoming import sender_urn, storable_text
from herald.channels.models import Channel

from . import signature

RECEIPT = "receipt"
RECEIVE = "receive"
ACTIONS = (RECEIPT, RECEIVE)

# A receipt's `status`, as Herald's forward-only statuses; `unknown` says nothing new and is ignored.
RECEIPT_STATUSES = {
    "accepted": "sent",
    "buffered": "sent",
    "delivered": "delivered",
    "expired": "failed",
    "failed": "failed",
    "rejected": "failed",
    "unknown": None,
}

# A failed receipt's `err-code`, as Vonage's SMS API reference names them ("DLR error codes").
RECEIPT_ERRORS = {
    "1": "Unknown",
    "2": "Absent Subscriber - Temporary",
    "3": "Absent Subscriber - Permanent",
    "4": "Call Barred by User",
    "5": "Portability Error",
    "6": "Anti-Spam Rejection",
    "7": "Handset Busy",
    "8": "Network Error",
    "9": "Illegal Number",
    "10": "Illegal Message",
    "11": "Unroutable",
    "12": "Destination Unreachable",
    "13": "Subscriber Age Restriction",
    "14": "Number Blocked by Carrier",
    "15": "Prepaid Insufficient Funds",
    "16": "Gateway Quota Exceeded",
    "50": "Entity Filter",
    "51": "Header Filter",
    "52": "Content Filter",
    "53": "Consent Filter",
    "54": "Regulation Error",
    "99": "General Error",
}

# `message-timestamp`: when Vonage got the message, UTC.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def read(request: HttpRequest, channel: Channel, action: str) -> CallbackEvents:
    if action not in ACTIONS:
        raise CallbackRejected(404, f"unknown callback {action!r}: use {' or '.join(ACTIONS)}")
    params = parameters(request)
    secret = channel.config.get("signature_secret", "")
    if secret:
        try:
            signature.check(params, secret)
        except signature.BadSignature as exc:
            raise CallbackRejected(403, str(exc)) from None
    return read_receipt(params) if action == RECEIPT else read_incoming(params, channel)


def parameters(request: HttpRequest) -> dict[str, str]:
    """Every parameter Vonage sent, query string and body together (a signature covers them all), as strings."""
    params: dict[str, str] = {}
    for name, value in request_body(request).items():
        params[str(name)] = value if isinstance(value, str) else _json_text(value)
    params.update((name, request.GET[name]) for name in request.GET)
    return params


def _json_text(value: Any) -> str:
    # A JSON webhook's non-string values, written as Vonage writes them in a form.
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def read_receipt(params: dict[str, str]) -> list[DeliveryReport]:
    status = params.get("status", "")
    if status not in RECEIPT_STATUSES:
        raise CallbackRejected(400, f"unknown receipt status {status[:40]!r}: one of {', '.join(RECEIPT_STATUSES)}")
    msg_uuid = _uuid_or_none(params.get("client-ref", ""))
    message_id = params.get("messageId", "").strip()[:MAX_EXTERNAL_ID]
    if msg_uuid is None and not message_id:
        raise CallbackRejected(400, "a receipt needs messageId (or the client-ref Herald sent)")
    herald_status = RECEIPT_STATUSES[status]
    if herald_status is None:
        return []  # `unknown`: nothing to move forward
    detail = ""
    if herald_status == "failed":
        code = params.get("err-code", "").strip()
        detail = f"Vonage receipt {status}, err-code {code}: {RECEIPT_ERRORS.get(code, 'unlisted error code')}"
    return [DeliveryReport(msg_uuid, herald_status, external_id=message_id or None, detail=detail)]


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None  # not a reference Herald set: the message is found by messageId


def read_incoming(params: dict[str, str], channel: Channel) -> list[IncomingMessage]:
    sender = params.get("msisdn", "").strip()
    if not sender:
        raise CallbackRejected(400, "missing msisdn: the sender's number")
    if params.get("type") == "binary":
        return []  # a binary SMS (a ringtone, a WAP push) has no text to store
    text = storable_text(params.get("text", ""))
    if len(text) > MAX_INCOMING_TEXT:
        raise CallbackRejected(400, f"text is longer than {MAX_INCOMING_TEXT:,} characters")
    message_id = params.get("messageId", "").strip()
    if len(message_id) > MAX_EXTERNAL_ID:
        raise CallbackRejected(400, f"messageId is longer than {MAX_EXTERNAL_ID} characters")
    return [
        IncomingMessage(
            urn=sender_urn(channel, "+" + sender.removeprefix("+")),
            text=text,
            received_on=_received_on(params.get("message-timestamp", "")),
            external_id=message_id or None,
        )
    ]


def _received_on(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        return datetime.strptime(value.strip(), TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise CallbackRejected(
            400, f"message-timestamp must be UTC 'YYYY-MM-DD HH:MM:SS', got {value[:40]!r}"
        ) from None
