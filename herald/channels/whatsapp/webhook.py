"""WhatsApp's webhook at `/c/wa/<channel uuid>/<secret>/webhook`, as the Cloud API calls it:

- GET, the URL check when it is set in the app: `hub.mode=subscribe`, `hub.verify_token` (must be the channel's
  `verify_token`) and `hub.challenge`, answered as plain text;
- POST, the notifications, signed `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, app_secret>`:
  `{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"metadata":
  {"phone_number_id"}, "messages": [...], "statuses": [...]}}]}]}`, read into Herald's events in order. Changes for
  another phone number (one app may serve several) are skipped.
"""

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest

from herald.channels.base import (
    MAX_EXTERNAL_ID,
    MAX_INCOMING_TEXT,
    CallbackEvent,
    Challenge,
    DeliveryReport,
    IncomingMessage,
    StopSignal,
)
from herald.channels.callback_requests import CallbackRejected, request_body
from herald.channels.models import Channel
from herald.contacts import urns

from .errors import USER_STOPPED

WEBHOOK = "webhook"
STATUSES = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed"}
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker", "voice")
# Notifications that are no message from the contact (a reaction to one, a number change, a type Meta can't show).
SKIPPED_TYPES = ("reaction", "system", "unsupported", "request_welcome")


def verify_challenge(request: HttpRequest, channel: Channel) -> Challenge:
    mode, token = request.GET.get("hub.mode"), request.GET.get("hub.verify_token", "")
    if mode != "subscribe":
        raise CallbackRejected(400, "hub.mode must be 'subscribe'")
    if not hmac.compare_digest(token.encode(), str(channel.config.get("verify_token", "")).encode()):
        raise CallbackRejected(403, "hub.verify_token is not this channel's verify_token")
    return Challenge(request.GET.get("hub.challenge", ""))


def check_signature(request: HttpRequest, channel: Channel) -> None:
    given = request.headers.get("X-Hub-Signature-256", "")
    expected = hmac.new(str(channel.config.get("app_secret", "")).encode(), request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.encode(), f"sha256={expected}".encode()):
        raise CallbackRejected(403, "X-Hub-Signature-256 is missing or is not the body's signature with app_secret")


def read_notification(request: HttpRequest, channel: Channel) -> list[CallbackEvent]:
    check_signature(request, channel)
    body = request_body(request)
    if body.get("object") != "whatsapp_business_account":
        raise CallbackRejected(400, "object must be 'whatsapp_business_account'")
    events: list[CallbackEvent] = []
    for entry in _list(body, "entry"):
        for change in _list(entry, "changes"):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            metadata = value.get("metadata")
            number_id = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
            if str(number_id) != channel.config.get("phone_number_id"):
                continue
            for status in _list(value, "statuses"):
                events += _status_events(status, channel)
            for message in _list(value, "messages"):
                if message.get("type") not in SKIPPED_TYPES:
                    events.append(_incoming(message, channel))
    return events


def _list(container: Any, key: str) -> list[dict[str, Any]]:
    items = container.get(key, []) if isinstance(container, dict) else []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise CallbackRejected(400, f"{key} must be a list of objects")
    return items


def _string(item: dict[str, Any], key: str, what: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CallbackRejected(400, f"{what} needs '{key}' as a string")
    return value.strip()


def _urn(channel: Channel, wa_id: str) -> str:
    try:
        return str(urns.parse_and_normalize(f"whatsapp:{wa_id}", channel.country or channel.workspace.country))
    except urns.InvalidURN:
        raise CallbackRejected(400, f"{wa_id[:100]!r} is not a WhatsApp ID") from None


def _status_events(status: dict[str, Any], channel: Channel) -> list[CallbackEvent]:
    wamid = _string(status, "id", "a status")[:MAX_EXTERNAL_ID]
    name = STATUSES.get(str(status.get("status")))
    if name is None:  # e.g. "deleted", "warning": nothing Herald tracks
        return []
    if name != "failed":
        return [DeliveryReport(None, name, external_id=wamid)]
    errors = status.get("errors") if isinstance(status.get("errors"), list) else []
    error = errors[0] if errors and isinstance(errors[0], dict) else {}
    detail = f"WhatsApp error {error.get('code')}: {error.get('title') or error.get('message') or 'no reason given'}"
    events: list[CallbackEvent] = [DeliveryReport(None, "failed", external_id=wamid, detail=detail)]
    recipient = status.get("recipient_id")
    if error.get("code") == USER_STOPPED and isinstance(recipient, str) and recipient:
        events.append(StopSignal(_urn(channel, recipient)))
    return events


def _incoming(message: dict[str, Any], channel: Channel) -> IncomingMessage:
    sender = _string(message, "from", "a message")
    wamid = _string(message, "id", "a message")
    if len(wamid) > MAX_EXTERNAL_ID:
        raise CallbackRejected(400, f"message id is longer than {MAX_EXTERNAL_ID} characters")
    timestamp = message.get("timestamp")
    try:
        received_on = datetime.fromtimestamp(int(timestamp), tz=UTC) if timestamp is not None else None
    except (TypeError, ValueError, OverflowError):
        raise CallbackRejected(400, f"message timestamp must be Unix seconds, got {str(timestamp)[:50]!r}") from None
    text = _text(message)
    if len(text) > MAX_INCOMING_TEXT:
        raise CallbackRejected(400, f"text is longer than {MAX_INCOMING_TEXT:,} characters")
    return IncomingMessage(
        urn=_urn(channel, sender), text=text, received_on=received_on, external_id=wamid, attachments=()
    )


def _text(message: dict[str, Any]) -> str:
    """What the contact wrote or chose: a text's body, a button's or list row's title, a media caption."""
    kind = message.get("type")
    content = message.get(kind) if isinstance(kind, str) else None
    content = content if isinstance(content, dict) else {}
    if kind == "text":
        return str(content.get("body") or "")
    if kind == "button":  # a template's quick-reply button
        return str(content.get("text") or "")
    if kind == "interactive":
        reply = content.get("button_reply") or content.get("list_reply")
        return str(reply.get("title") or "") if isinstance(reply, dict) else ""
    if kind in MEDIA_TYPES:
        return str(content.get("caption") or "")
    return ""
