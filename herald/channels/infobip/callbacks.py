"""Infobip's callbacks, read into Herald's events: both come as JSON batches, `{"results": [...]}`.

- `delivered`: delivery reports (the `notifyUrl` given with each message). Each result names the message by the
  `messageId` Herald gave it (else `callbackData`) and has a `status` whose group maps to Herald's statuses; a
  failure keeps Infobip's status and error names and descriptions as its detail.
- `receive`: incoming messages (the number's forwarding URL): `from`, `text`, `receivedAt`, `messageId` (a retried
  callback stores one message). Infobip sends no opt-out signal: stop words in the text stop the contact.
"""

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest

from herald.channels.base import MAX_EXTERNAL_ID, MAX_INCOMING_TEXT, DeliveryReport, IncomingMessage
from herald.channels.callback_requests import CallbackRejected, request_body
from herald.channels.models import Channel
from herald.contacts import urns

DELIVERED = "delivered"
RECEIVE = "receive"

# Infobip's status groups (its "Response status and error codes").
# EXPIRED is a failure (docs/COMPATIBILITY.md, C74): the network gave up on the message.
STATUS_OF_GROUP = {1: "sent", 3: "delivered", 2: "failed", 4: "failed", 5: "failed"}
GROUP_OF_NAME = {"PENDING": 1, "UNDELIVERABLE": 2, "DELIVERED": 3, "EXPIRED": 4, "REJECTED": 5}


def _results(request: HttpRequest) -> list[dict[str, Any]]:
    results = request_body(request).get("results")
    if not isinstance(results, list) or not results or not all(isinstance(r, dict) for r in results):
        raise CallbackRejected(400, "expected a JSON body with 'results', a list of objects")
    return results


def _text(result: dict[str, Any], key: str, limit: int = MAX_EXTERNAL_ID) -> str:
    value = result.get(key)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise CallbackRejected(400, f"'{key}' must be a string of at most {limit} characters")
    return value.strip()


def read_reports(request: HttpRequest) -> list[DeliveryReport]:
    return [_report(result) for result in _results(request)]


def _report(result: dict[str, Any]) -> DeliveryReport:
    message_id = _text(result, "messageId")
    status = result.get("status")
    if not isinstance(status, dict):
        status = {}
    # groupId, else groupName (the field courier reads): both name the same group.
    group = status.get("groupId", GROUP_OF_NAME.get(str(status.get("groupName", "")).upper()))
    if group not in STATUS_OF_GROUP or isinstance(group, bool):
        raise CallbackRejected(400, f"unknown status groupId {group!r} for message {message_id[:100]!r}")
    msg_uuid = _uuid(message_id) or _uuid(_text(result, "callbackData"))
    if msg_uuid is None and not message_id:
        raise CallbackRejected(400, "a report needs its 'messageId'")
    reported = STATUS_OF_GROUP[group]
    detail = _failure_detail(status, result.get("error")) if reported == "failed" else ""
    return DeliveryReport(msg_uuid, reported, external_id=message_id or None, detail=detail)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _failure_detail(status: dict[str, Any], error: Any) -> str:
    """ "REJECTED_DESTINATION (Destination address blocked); error EC_ABSENT_SUBSCRIBER (Absent subscriber)"."""

    def described(part: dict[str, Any]) -> str:
        name, description = str(part.get("name") or ""), str(part.get("description") or "")
        return f"{name} ({description})" if name and description else name or description

    detail = described(status)
    if isinstance(error, dict) and error.get("id") not in (None, 0):  # id 0 is Infobip's "NO_ERROR"
        detail += f"; error {described(error)}"
    return detail[:1000]


def read_incoming(request: HttpRequest, channel: Channel) -> list[IncomingMessage]:
    return [_incoming(result, channel) for result in _results(request)]


def _incoming(result: dict[str, Any], channel: Channel) -> IncomingMessage:
    sender = _text(result, "from")
    if not sender:
        raise CallbackRejected(400, "an incoming message needs 'from'")
    text = _text(result, "text", MAX_INCOMING_TEXT)
    received_at = _text(result, "receivedAt")
    return IncomingMessage(
        urn=_sender_urn(channel, sender),
        text=text,
        received_on=_parse_time(received_at) if received_at else None,
        external_id=_text(result, "messageId") or None,
    )


def _sender_urn(channel: Channel, sender: str) -> str:
    """Infobip gives numbers in international format without the "+"."""
    try:
        return str(urns.parse_and_normalize("tel:+" + sender.removeprefix("+"), channel.country or ""))
    except urns.InvalidURN:
        raise CallbackRejected(400, f"from: {sender[:100]!r} is not a possible phone number") from None


def _parse_time(value: str) -> datetime:
    """Infobip's times: "2019-11-09T16:00:00.000+0000"."""
    for layout in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, layout)
        except ValueError:
            pass
    raise CallbackRejected(400, f"receivedAt: {value[:100]!r} is not a time like 2019-11-09T16:00:00.000+0000")
