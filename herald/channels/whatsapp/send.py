"""One outgoing message as a WhatsApp Cloud API request: `POST {base_url}/{phone_number_id}/messages`.

A text (with its quick replies as reply buttons, up to 3 of at most 20 characters, else as a list, up to 10 rows of
at most 24, else appended as lines), then each attachment as its own media message (the first carrying the text as
its caption when there is no button to send). WhatsApp answers `{"messages": [{"id": "wamid..."}]}`: the first id
is the message's external id, the one its status webhooks name.
"""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from herald.channels.attachments import MB, Attachment, sized_attachments
from herald.channels.base import OutgoingMsg, PermanentSendError, quick_reply_texts, text_with_replies

# Meta's media limits (Cloud API, "Supported media types").
MEDIA_LIMITS = {"image": 5 * MB, "audio": 16 * MB, "video": 16 * MB, "": 100 * MB}
MAX_TEXT = 4096
MAX_BUTTONS, MAX_BUTTON_TITLE = 3, 20
MAX_ROWS, MAX_ROW_TITLE = 10, 24
MAX_INTERACTIVE_BODY = 1024
# Free-form messages may go only within this long after the contact last wrote (the customer-service window).
SERVICE_WINDOW = timedelta(hours=24)
OUTSIDE_WINDOW = "outside WhatsApp's 24-hour customer-service window: only approved templates can be sent"


def check_service_window(msg: OutgoingMsg) -> None:
    """Fail before the call when the contact hasn't written in the last 24 hours (WhatsApp would refuse with 131047).
    Read from the contact's `last_seen_on` (set by every incoming message), which the delivery loop loads with the
    message: no query from the send threads, and channels sit below msgs. It is per contact, not per channel: a
    contact who wrote on another channel passes here and gets WhatsApp's own 131047 refusal."""
    last_seen = msg.contact.last_seen_on
    if last_seen is None or timezone.now() - last_seen > SERVICE_WINDOW:
        raise PermanentSendError(OUTSIDE_WINDOW)


def payloads(to: str, msg: OutgoingMsg) -> list[dict[str, Any]]:
    """The request bodies for `msg`, in order."""
    replies = quick_reply_texts(msg)
    media = sized_attachments(msg, MEDIA_LIMITS, provider="WhatsApp")
    text = msg.text or ""
    bodies: list[dict[str, Any]] = []
    interactive = _interactive(text, replies) if replies else None
    if interactive is not None:
        bodies += [_media(to, attachment, "") for attachment in media]
        bodies.append(_envelope(to, "interactive", interactive))
        return bodies
    text = text_with_replies(msg)
    if len(text) > MAX_TEXT:
        raise PermanentSendError(f"text is {len(text)} characters: WhatsApp takes at most {MAX_TEXT}")
    if media:
        # The text rides as the first attachment's caption, as courier sends it.
        bodies += [_media(to, attachment, text if i == 0 else "") for i, attachment in enumerate(media)]
        return bodies
    return [_envelope(to, "text", {"body": text, "preview_url": False})]


def template_payload(to: str, template: dict[str, Any]) -> dict[str, Any]:
    return _envelope(to, "template", template)


def _envelope(to: str, kind: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind, kind: content}


def _media(to: str, attachment: Attachment, caption: str) -> dict[str, Any]:
    kind = attachment.kind if attachment.kind in ("image", "audio", "video") else "document"
    content: dict[str, Any] = {"link": attachment.url}
    if caption and kind != "audio":  # audio takes no caption
        content["caption"] = caption
    return _envelope(to, kind, content)


def _interactive(text: str, replies: list[str]) -> dict[str, Any] | None:
    """Reply buttons, else a list; None when the replies fit neither (they are then appended to the text)."""
    if not text or len(text) > MAX_INTERACTIVE_BODY:
        return None
    body = {"text": text}
    if len(replies) <= MAX_BUTTONS and all(len(r) <= MAX_BUTTON_TITLE for r in replies):
        buttons = [{"type": "reply", "reply": {"id": str(i), "title": r}} for i, r in enumerate(replies)]
        return {"type": "button", "body": body, "action": {"buttons": buttons}}
    if len(replies) <= MAX_ROWS and all(len(r) <= MAX_ROW_TITLE for r in replies):
        rows = [{"id": str(i), "title": r} for i, r in enumerate(replies)]
        return {"type": "list", "body": body, "action": {"button": "Menu", "sections": [{"rows": rows}]}}
    return None
