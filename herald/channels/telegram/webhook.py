"""Telegram's webhook: `setWebhook` tells Telegram where to POST updates, with a `secret_token` it sends back in
the `X-Telegram-Bot-Api-Secret-Token` header of each one.

The token is derived from the channel's callback secret (an HMAC, hex: within Telegram's 1-256 characters of
A-Za-z0-9_-), so nothing more is stored, and rotating the secret (`herald channel rotate-secret`) changes both the
URL and the token: run setWebhook again then (the line `activate` prints when it can't say it).
"""

import hashlib
import hmac
from typing import Any

from django.conf import settings

from herald.channels.base import ChannelConfigError, SendError
from herald.channels.models import Channel

from . import bot_api

UPDATE = "update"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# The updates Herald reads: messages, and the bot's own membership in a chat (blocked / unblocked by the user).
ALLOWED_UPDATES = ["message", "my_chat_member"]


def secret_token(channel: Channel) -> str:
    return hmac.new(channel.callback_secret.encode(), b"telegram setWebhook secret_token", hashlib.sha256).hexdigest()


def token_matches(channel: Channel, given: str | None) -> bool:
    # Constant-time, as the URL's secret is checked.
    return bool(given) and hmac.compare_digest(secret_token(channel).encode(), (given or "").encode())


def set_webhook(channel: Channel, update_url: str) -> str:
    """Register `update_url` with Telegram; a line for the channel owner. Without HERALD_BASE_URL the URL is only a
    path Telegram can't reach: say what to run instead."""
    if not settings.BASE_URL:
        # The callback URL already carries the channel's secret, so printing the token derived from it adds nothing.
        body = f'{{"url": "https://<your herald>{update_url}", "secret_token": "{secret_token(channel)}", ' + (
            '"allowed_updates": ["message", "my_chat_member"]}'
        )
        return (
            "Telegram webhook NOT set (HERALD_BASE_URL is not set; Telegram needs an https URL). Once Herald is "
            "reachable, run: curl -X POST -H 'Content-Type: application/json' "
            f"-d '{body}' https://api.telegram.org/bot<bot_token>/setWebhook"
        )
    payload: dict[str, Any] = {
        "url": update_url,
        "secret_token": secret_token(channel),
        "allowed_updates": ALLOWED_UPDATES,
    }
    try:
        bot_api.call(channel.config, "setWebhook", payload)
    except SendError as exc:
        raise ChannelConfigError(f"Telegram refused setWebhook: {exc.detail}") from None
    return f"Telegram webhook set to {update_url}"
