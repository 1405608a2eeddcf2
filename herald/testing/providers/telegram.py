"""FakeTelegram: Telegram's Bot API on 127.0.0.1, as https://core.telegram.org/bots/api documents it.

`POST /bot<token>/<method>` with a JSON body; answers `{"ok": true, "result": ...}` or `{"ok": false, "error_code":
N, "description": "..."}`. It refuses what Telegram refuses: an unknown token (401 "Unauthorized"), an unknown
method (404 "Not Found"), a body that isn't JSON, a missing `chat_id` or an unknown chat (400 "Bad Request: chat
not found"), an empty text (400 "Bad Request: message text is empty"), a text over 4096 or a caption over 1024
characters, a setWebhook `secret_token` outside 1-256 characters of A-Za-z0-9_-, and a webhook URL that isn't https
(an http URL is accepted on loopback only, where tests run Herald: Telegram itself accepts https only).

    with FakeTelegram() as telegram:
        telegram.chats.add(42)                       # a user who has started the bot
        telegram.blocked.add(42)                     # ... and then blocked it: 403 "bot was blocked by the user"
        telegram.send_update(webhook_url, secret, {"message": {...}})
"""

import itertools
import re
import time
from typing import Any
from urllib.parse import urlsplit

from herald.channels.models import Channel
from herald.channels.registry import create_channel
from herald.testing.gateway import Recorded, Reply
from herald.testing.providers.base import LOOPBACK, FakeProvider, json_reply
from herald.workspaces.models import Workspace

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
BOT_ID = 123456789
BENCH_URN = "telegram:1001"
_SEND_METHODS = {
    "sendMessage": "text",
    "sendPhoto": "photo",
    "sendVideo": "video",
    "sendAudio": "audio",
    "sendDocument": "document",
}
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_PATH = re.compile(r"^/bot(?P<token>[^/]*)/(?P<method>\w+)$")


def error(code: int, description: str, **parameters: Any) -> Reply:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return json_reply(code, body)


def ok(result: Any) -> Reply:
    return json_reply(200, {"ok": True, "result": result})


class FakeTelegram(FakeProvider):
    def __init__(self, port: int = 0, token: str = TOKEN):
        super().__init__(port)
        self.token = token
        # Chats the bot may write to (users who started it); `blocked`: those who blocked it since.
        self.chats: set[int] = {1001}
        self.blocked: set[int] = set()
        # The bench writes to many chats: every chat id is then one that started the bot.
        self.every_chat_started = False
        self.webhook: dict[str, Any] = {}
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(1)

    def sent(self) -> list[tuple[str, dict[str, Any]]]:
        """The Bot API sends made so far: (method, JSON body)."""
        return [(r.path.rsplit("/", 1)[1], r.json) for r in self.requests if r.path.rsplit("/", 1)[1] in _SEND_METHODS]

    def answer(self, request: Recorded) -> Reply:
        match = _PATH.match(request.path)
        if match is None or request.method not in ("GET", "POST"):
            return error(404, "Not Found")
        if match["token"] != self.token:
            return error(401, "Unauthorized")
        try:
            params = request.json if request.body else {}
        except ValueError:
            return error(400, "Bad Request: can't parse JSON object")
        if not isinstance(params, dict):
            return error(400, "Bad Request: can't parse JSON object")
        method = match["method"]
        if method == "getMe":
            return ok({"id": BOT_ID, "is_bot": True, "first_name": "Herald Test", "username": "herald_test_bot"})
        if method == "setWebhook":
            return self._set_webhook(params)
        if method in _SEND_METHODS:
            return self._send(method, params)
        return error(404, "Not Found")

    def _set_webhook(self, params: dict[str, Any]) -> Reply:
        url = params.get("url")
        if not isinstance(url, str) or not url:
            return error(400, "Bad Request: bad webhook: URL must be provided for webhook")
        parts = urlsplit(url)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
            return error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not (isinstance(secret, str) and _SECRET_TOKEN.match(secret)):
            return error(400, "Bad Request: secret token contains unallowed characters")
        allowed = params.get("allowed_updates", [])
        if not isinstance(allowed, list) or not all(isinstance(kind, str) for kind in allowed):
            return error(400, "Bad Request: can't parse allowed updates")
        self.webhook = {"url": url, "secret_token": secret, "allowed_updates": allowed}
        return ok(True)

    def _send(self, method: str, params: dict[str, Any]) -> Reply:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            return error(400, "Bad Request: chat_id is empty")
        try:
            chat = int(chat_id)
        except (TypeError, ValueError):
            return error(400, "Bad Request: chat not found")
        if chat not in self.chats and not self.every_chat_started:
            return error(400, "Bad Request: chat not found")
        if chat in self.blocked:
            return error(403, "Forbidden: bot was blocked by the user")
        field = _SEND_METHODS[method]
        value = params.get(field)
        if method == "sendMessage":
            if not isinstance(value, str) or not value.strip():
                return error(400, "Bad Request: message text is empty")
            if len(value) > 4096:
                return error(400, "Bad Request: message is too long")
        elif not isinstance(value, str) or not value:
            return error(400, f"Bad Request: there is no {field} in the request")
        caption = params.get("caption")
        if caption is not None and (not isinstance(caption, str) or len(caption) > 1024):
            return error(400, "Bad Request: message caption is too long")
        markup = params.get("reply_markup")
        if markup is not None and not _valid_keyboard(markup):
            return error(400, "Bad Request: can't parse reply keyboard markup JSON object")
        result: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Herald Test"},
            "chat": {"id": chat, "type": "private"},
            "date": int(time.time()),
        }
        result["text" if method == "sendMessage" else "caption"] = value if method == "sendMessage" else caption
        return ok(result)

    def update(self, chat_id: int, **fields: Any) -> dict[str, Any]:
        """An Update (with its update_id) from user `chat_id`: `message=` / `my_chat_member=` bodies given without
        their chat, which is filled in."""
        chat = {"id": chat_id, "type": "private", "first_name": "Bob"}
        user = {"id": chat_id, "is_bot": False, "first_name": "Bob"}
        update: dict[str, Any] = {"update_id": next(self._update_ids)}
        for kind, body in fields.items():
            update[kind] = {"chat": chat, "from": user, "date": int(time.time()), **body}
        return update

    def send_update(self, url: str, update: dict[str, Any], secret_token: str | None = None):
        """POST `update` to Herald as Telegram does, with the webhook's secret token (the one setWebhook set unless
        one is given)."""
        token = self.webhook.get("secret_token") if secret_token is None else secret_token
        headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token else {}
        return self.call_back(url, json_body=update, headers=headers)


def _valid_keyboard(markup: Any) -> bool:
    rows = markup.get("keyboard") if isinstance(markup, dict) else None
    return isinstance(rows, list) and all(
        isinstance(row, list)
        and row
        and all(isinstance(button, dict) and isinstance(button.get("text"), str) for button in row)
        for row in rows
    )


FAKE = FakeTelegram


def bench_channel(workspace: Workspace, fake: FakeTelegram) -> Channel:
    fake.every_chat_started = True
    channel = create_channel(
        workspace,
        "telegram",
        "Telegram bench",
        schemes=["telegram"],
        tps=None,
        config={"base_url": fake.base_url, "bot_token": fake.token},
    )
    return channel
