"""`telegram`: a Telegram bot, through the Bot API (https://core.telegram.org/bots/api).

Sending is `bot_api.py` (one JSON POST per Bot API call, errors mapped); the webhook and its secret token are
`webhook.py`; reading the updates Telegram POSTs is `updates.py`. A message's URN is `telegram:<chat id>`.
"""

from typing import Any

from django.http import HttpRequest

from herald.channels.attachments import MB, Attachment, sized_attachments
from herald.channels.base import (
    CallbackEvent,
    ChannelConfigError,
    ChannelType,
    OutgoingMsg,
    SendError,
    SendResult,
    quick_reply_texts,
    urn_of,
)
from herald.channels.callback_requests import CallbackRejected
from herald.channels.models import Channel

from . import bot_api, updates, webhook

# Telegram's limits: a message's text, a media caption, and files sent by URL (photos 5 MB, anything else 20 MB;
# the 10 / 50 MB limits are for uploads, which Herald doesn't make).
MAX_TEXT = 4096
MAX_CAPTION = 1024
URL_LIMITS = {"image": 5 * MB, "": 20 * MB}
# The Bot API method and its media field for each kind of attachment.
_MEDIA_METHODS = {"image": ("sendPhoto", "photo"), "video": ("sendVideo", "video"), "audio": ("sendAudio", "audio")}
_DOCUMENT = ("sendDocument", "document")


class TelegramType(ChannelType):
    code = "telegram"
    name = "Telegram"
    schemes = ("telegram",)
    config_keys = {
        "base_url": "the Bot API's address (default https://api.telegram.org)",
        "bot_token": "the bot's token from @BotFather, e.g. 123456:ABC-DEF...",
    }
    required_config = ("bot_token",)
    config_defaults = {"base_url": "https://api.telegram.org"}
    # Telegram's documented limit for a bot's messages to different chats (its bot FAQ: about 30 a second).
    default_tps = 30
    callback_path = "tg"
    callback_url_name = "channels.telegram.callback"
    callback_actions = (webhook.UPDATE,)
    callback_help = (
        "Telegram's webhook URL (set by `herald channel add` through setWebhook when HERALD_BASE_URL is set):"
    )
    ignores_unknown_reports = True

    def verify_credentials(self, config: dict[str, Any], address: str) -> None:
        try:
            bot_api.call(config, "getMe", {})
        except SendError as exc:
            raise ChannelConfigError(exc.detail) from None

    def activate(self, channel: Channel, callback_urls: dict[str, str]) -> str:
        return webhook.set_webhook(channel, callback_urls[webhook.UPDATE])

    def read_callback(self, request: HttpRequest, channel: Channel, action: str) -> list[CallbackEvent]:
        if action != webhook.UPDATE:
            raise CallbackRejected(404, f"unknown Telegram callback {action!r}: the webhook's action is 'update'")
        if not webhook.token_matches(channel, request.headers.get(webhook.SECRET_HEADER)):
            raise CallbackRejected(403, f"wrong or missing {webhook.SECRET_HEADER}: run setWebhook again")
        return updates.read_update(request)

    def send(self, channel: Channel, msg: OutgoingMsg) -> SendResult:
        """One Bot API call per attachment (the text as the caption of a lone one when it fits), else sendMessage;
        quick replies as a one-time reply keyboard on the last call. The external id is the first message's."""
        chat_id = urn_of(msg).split(":", 1)[1]
        attachments = sized_attachments(msg, URL_LIMITS, provider="Telegram (files sent by URL)")
        text = msg.text or ""
        calls: list[tuple[str, dict[str, Any]]] = []
        caption = ""
        if len(attachments) == 1 and len(text) <= MAX_CAPTION:
            caption, text = text, ""
        # No text and no attachment: sent as it is, for Telegram to refuse ("message text is empty").
        texts = _parts(text) or ([] if attachments else [text])
        calls += [("sendMessage", {"text": part}) for part in texts]
        for attachment in attachments:
            method, field = _media_method(attachment)
            calls.append((method, {field: attachment.url, **({"caption": caption} if caption else {})}))
        replies = quick_reply_texts(msg)
        if replies:
            calls[-1][1]["reply_markup"] = {
                "keyboard": [[{"text": reply}] for reply in replies],
                "resize_keyboard": True,
                "one_time_keyboard": True,
            }
        config = channel.config
        message_ids = [bot_api.call(config, method, {"chat_id": chat_id, **payload}) for method, payload in calls]
        first = message_ids[0] if message_ids else None
        return SendResult(external_id=str(first["message_id"]) if isinstance(first, dict) else None)


def _media_method(attachment: Attachment) -> tuple[str, str]:
    return _MEDIA_METHODS.get(attachment.kind, _DOCUMENT)


def _parts(text: str) -> list[str]:
    """The text in pieces Telegram takes (at most MAX_TEXT characters, cut at a line or a space when there is one);
    at least one piece unless there is no text at all."""
    parts = []
    while len(text) > MAX_TEXT:
        cut = max(text.rfind("\n", 0, MAX_TEXT), text.rfind(" ", 0, MAX_TEXT))
        cut = cut if cut > 0 else MAX_TEXT
        parts.append(text[:cut])
        text = text[cut:].lstrip()
    return [*parts, text] if text else parts
