"""What every channel type's delivery-report endpoint shares: finding the channel and the message, applying the
reported status forward-only, and clear JSON answers (every refusal logged, so a misconfigured gateway shows up).

The endpoints are public, like RapidPro's courier callbacks: the channel UUID in the URL is the shared secret, and a
report can only touch messages sent through that channel.
"""

import json
import logging
import uuid

from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError

from herald.channels.models import Channel
from herald.msgs.models import Msg
from herald.msgs.status import apply_status

logger = logging.getLogger("herald.channels.callbacks")


class ReportRejected(Exception):
    def __init__(self, status_code: int, message: str):
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def rejected(request, exc: ReportRejected) -> JsonResponse:
    logger.warning(
        "delivery report refused with %s: %s %s: %s",
        exc.status_code,
        request.method,
        request.get_full_path(),
        exc.message,
    )
    return JsonResponse({"error": exc.message}, status=exc.status_code)


def find_channel(channel_type: str, channel_uuid: str) -> Channel:
    """The channel a callback URL names. Reports are taken for deactivated channels too: they still tell the truth
    about messages sent before."""
    try:
        value = uuid.UUID(channel_uuid)
    except ValueError:
        value = None
    channel = Channel.objects.filter(uuid=value, channel_type=channel_type).first() if value else None
    if channel is None:
        raise ReportRejected(404, f"no {channel_type} channel with UUID {channel_uuid}")
    return channel


def request_value(request, name: str) -> str | None:
    """A parameter from the query string, a form body or a JSON object body, in that order."""
    if request.GET.get(name):
        return request.GET[name]
    content_type = request.content_type or ""
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            data = json.loads(request.body or b"null")
        except ValueError:
            raise ReportRejected(400, "request body is not valid JSON") from None
        if data is not None and not isinstance(data, dict):
            raise ReportRejected(400, "JSON body must be an object")
        value = (data or {}).get(name)
        return None if value is None or value == "" else str(value)
    if request.method == "POST":
        try:
            return request.POST.get(name) or None
        except MultiPartParserError as exc:
            raise ReportRejected(400, f"unreadable form body: {exc}") from None
    return None


def apply_report(channel: Channel, msg_id: str | None, new_status: str) -> dict:
    """Apply a reported status to the message `msg_id` (its UUID) of `channel`; the response's `data` item."""
    if not msg_id:
        raise ReportRejected(400, "missing id: give the message UUID as `id` in the query string or the body")
    try:
        msg_uuid = uuid.UUID(msg_id.strip())
    except ValueError:
        raise ReportRejected(400, f"id must be a message UUID, got {msg_id[:100]!r}") from None
    msg = Msg.objects.filter(uuid=msg_uuid, channel=channel, direction="O").first()
    if msg is None:
        raise ReportRejected(400, f"no message {msg_uuid} was sent through this channel")

    changed = apply_status(msg, new_status)
    if not changed:
        logger.info("delivery report %s for message %s ignored: it is already %s", new_status, msg_uuid, msg.status)
    return {
        "type": "status",
        "channel_uuid": str(channel.uuid),
        "msg_uuid": str(msg.uuid),
        "status": msg.get_status_display(),
        "changed": changed,
    }
