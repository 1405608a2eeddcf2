"""Incoming messages and opt-outs for `external` channels, read as RapidPro's External API channel takes them
(courier's `handlers/external`):

- `/c/ex/<channel uuid>/<secret>/receive`: `from` (or `sender`), `text`, optional `date` (or `time`, RFC 3339) and,
  Herald's, optional `id`: the provider's message id, so that a retried callback stores one message;
- `/c/ex/<channel uuid>/<secret>/stopped`: `from`, the contact that opted out.

By GET or POST, in the query string, a form body or a JSON body. `from` is a path of the channel's first scheme
(`tel`: a number, national ones read in the channel's country, else the workspace's). This reads the request;
`herald.msgs.inbound` stores the message or stops the contact. What differs from courier (the secret, `id`, the
limits) is docs/COMPATIBILITY.md, C64.
"""

import re
from datetime import datetime

from django.http import HttpRequest

from herald.channels.base import MAX_EXTERNAL_ID, MAX_INCOMING_TEXT, IncomingMessage, StopSignal
from herald.channels.callback_requests import CallbackRejected, request_value
from herald.channels.incoming import sender_urn, storable_text
from herald.channels.models import Channel
from herald.controlchars import has_control_characters, printable

RECEIVE = "receive"
STOPPED = "stopped"

# RFC 3339, as Go's time.RFC3339Nano reads it: a date, "T", a time with optional fractions, and a zone.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE)


def _first(request: HttpRequest, *names: str) -> str | None:
    for name in names:
        value = request_value(request, name)
        if value is not None:
            return value
    return None


def parse_date(value: str) -> datetime:
    if not _RFC3339.match(value.strip()):
        raise CallbackRejected(
            400, f"invalid date format, must be RFC 3339 (e.g. 2017-06-23T12:30:00Z), got {value[:100]!r}"
        )
    try:
        return datetime.fromisoformat(value.strip().upper().replace("Z", "+00:00"))
    except ValueError:
        raise CallbackRejected(400, f"invalid date {value[:100]!r}: no such day or time") from None


def read_incoming(request: HttpRequest, channel: Channel) -> IncomingMessage:
    sender = _first(request, "from", "sender")
    if not sender or not sender.strip():
        raise CallbackRejected(400, "must have one of 'sender' or 'from' set")
    text = storable_text(_first(request, "text") or "")
    if len(text) > MAX_INCOMING_TEXT:
        raise CallbackRejected(400, f"text is longer than {MAX_INCOMING_TEXT:,} characters")
    date = _first(request, "date", "time")
    external_id = _first(request, "id")
    if external_id is not None:
        external_id = external_id.strip()
        if len(external_id) > MAX_EXTERNAL_ID:
            raise CallbackRejected(400, f"id is longer than {MAX_EXTERNAL_ID} characters")
        if has_control_characters(external_id):
            raise CallbackRejected(400, f"id holds a control character: '{printable(external_id)[:100]}'")
    return IncomingMessage(
        urn=sender_urn(channel, sender),
        text=text,
        received_on=parse_date(date) if date else None,
        external_id=external_id or None,
    )


def read_stop(request: HttpRequest, channel: Channel) -> StopSignal:
    sender = _first(request, "from")
    if not sender or not sender.strip():
        raise CallbackRejected(400, "field 'from' required: the URN path of the contact that opted out")
    return StopSignal(sender_urn(channel, sender))
