"""Reading Telegram's updates (https://core.telegram.org/bots/api#update), POSTed as JSON one per request to
`/c/tg/<channel uuid>/<secret>/update` with the `X-Telegram-Bot-Api-Secret-Token` header setWebhook set.

- `message` in a private chat → an `IncomingMessage` from `telegram:<chat id>`, with external id
  `<chat id>:<message_id>` (message ids count per chat), received at its `date`; the text is `text`, else
  `caption`; a photo / document / video / voice / audio is kept as `<mime type>:telegram-file:<file_id>` (a
  `file_id` is resolved with getFile into a URL that holds the bot token, which Herald never stores); a location as
  `geo:<lat>,<lon>`; a shared contact's phone number as the text when there is no other.
  `/start` (Telegram's button on a new chat, and on a chat with a bot the user had blocked) also starts the
  contact again: a `StartSignal` follows the message.
- `my_chat_member` whose new status is `kicked` (the user blocked the bot) → `StopSignal`; `member` (the user
  unblocked it) → `StartSignal`.
- anything else (edits, group chats, channel posts, callback queries) is answered 200 and ignored: Telegram retries
  an update it didn't get a 2xx for.
"""

from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest

from herald.channels.base import MAX_INCOMING_TEXT, CallbackEvent, IncomingMessage, StartSignal, StopSignal
from herald.channels.callback_requests import CallbackRejected, request_body

START_COMMAND = "/start"
# Media fields of a message, with the MIME type Telegram doesn't give for each (a photo is always a JPEG).
_MEDIA = (
    ("document", "application/octet-stream"),
    ("video", "video/mp4"),
    ("voice", "audio/ogg"),
    ("audio", "audio/mpeg"),
    ("video_note", "video/mp4"),
    ("animation", "video/mp4"),
)


def read_update(request: HttpRequest) -> list[CallbackEvent]:
    update = request_body(request)
    if not isinstance(update.get("update_id"), int):
        raise CallbackRejected(400, "not a Telegram update: update_id (an integer) is missing")
    if isinstance(update.get("message"), dict):
        return _read_message(update["message"])
    if isinstance(update.get("my_chat_member"), dict):
        return _read_membership(update["my_chat_member"])
    return []


def _private_chat(container: dict[str, Any], what: str) -> str | None:
    """The chat's id as a URN path, for a private chat (a user's id); None for a group or a channel."""
    chat = container.get("chat")
    if not isinstance(chat, dict) or not isinstance(chat.get("id"), int) or isinstance(chat.get("id"), bool):
        raise CallbackRejected(400, f"{what}.chat.id (an integer) is missing")
    if chat.get("type", "private") != "private" or chat["id"] <= 0:
        return None
    return str(chat["id"])


def _read_message(message: dict[str, Any]) -> list[CallbackEvent]:
    chat_id = _private_chat(message, "message")
    if chat_id is None:
        return []
    message_id, date = message.get("message_id"), message.get("date")
    if not isinstance(message_id, int) or not isinstance(date, int):
        raise CallbackRejected(400, "message.message_id and message.date (integers) are required")
    text = message.get("text") or message.get("caption") or ""
    if not isinstance(text, str):
        raise CallbackRejected(400, "message.text must be a string")
    attachments = _attachments(message)
    contact = message.get("contact")
    if not text and isinstance(contact, dict) and contact.get("phone_number"):
        text = str(contact["phone_number"])
    if len(text) > MAX_INCOMING_TEXT:
        raise CallbackRejected(400, f"text is longer than {MAX_INCOMING_TEXT:,} characters")
    urn = f"telegram:{chat_id}"
    events: list[CallbackEvent] = [
        IncomingMessage(
            urn=urn,
            text=text,
            received_on=datetime.fromtimestamp(date, tz=UTC),
            external_id=f"{chat_id}:{message_id}",
            attachments=tuple(attachments),
        )
    ]
    if text.strip().split("@", 1)[0].casefold() == START_COMMAND:  # `/start` or `/start@YourBot`
        events.append(StartSignal(urn))
    return events


def _attachments(message: dict[str, Any]) -> list[str]:
    found = []
    photo = message.get("photo")
    if isinstance(photo, list) and photo and isinstance(photo[-1], dict):  # sizes, smallest first: the largest
        found.append(f"image/jpeg:telegram-file:{_file_id(photo[-1], 'photo')}")
    for field, default_type in _MEDIA:
        media = message.get(field)
        if isinstance(media, dict):
            found.append(f"{media.get('mime_type') or default_type}:telegram-file:{_file_id(media, field)}")
    location = message.get("location")
    if isinstance(location, dict):
        latitude, longitude = location.get("latitude"), location.get("longitude")
        if not all(isinstance(value, int | float) for value in (latitude, longitude)):
            raise CallbackRejected(400, "message.location needs a numeric latitude and longitude")
        found.append(f"geo:{latitude},{longitude}")
    return found


def _file_id(media: dict[str, Any], field: str) -> str:
    file_id = media.get("file_id")
    if not isinstance(file_id, str) or not file_id or len(file_id) > 200:
        raise CallbackRejected(400, f"message.{field}.file_id is missing")
    return file_id


def _read_membership(update: dict[str, Any]) -> list[CallbackEvent]:
    chat_id = _private_chat(update, "my_chat_member")
    new = update.get("new_chat_member")
    status = new.get("status") if isinstance(new, dict) else None
    if not isinstance(status, str):
        raise CallbackRejected(400, "my_chat_member.new_chat_member.status is missing")
    if chat_id is None:
        return []
    if status == "kicked":
        return [StopSignal(f"telegram:{chat_id}")]
    if status == "member":
        return [StartSignal(f"telegram:{chat_id}")]
    return []
