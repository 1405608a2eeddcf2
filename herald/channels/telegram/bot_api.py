"""Calling Telegram's Bot API (https://core.telegram.org/bots/api): `POST {base_url}/bot<token>/<method>` with a
JSON body; every answer is `{"ok": true, "result": ...}` or `{"ok": false, "error_code": N, "description": "...",
"parameters": {"retry_after": S}}`. The token is in the URL path: the channel log blanks it by value (it is the
config's `bot_token`, a secret-named key, herald/channels/redaction.py).
"""

import json
from typing import Any

from herald.channels import http
from herald.channels.base import PermanentSendError, RecipientStopped, TransientSendError

# 403 descriptions that mean the user is out of reach for good: the contact is stopped (RapidPro: courier's
# telegram handler stops the contact on these).
_STOPPED = ("bot was blocked by the user", "user is deactivated")


def call(config: dict[str, Any], method: str, payload: dict[str, Any]) -> Any:
    """Call `method` and return its `result`; raise the send error Telegram's answer calls for."""
    answer = http.request(
        "POST",
        f"{config['base_url']}/bot{config['bot_token']}/{method}",
        content=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        check=False,
    )
    body = answer.json()
    if not isinstance(body, dict):
        # Not the Bot API's JSON (a proxy's page): the generic mapping of the HTTP status.
        http.check_status(answer)
        raise PermanentSendError(f"Telegram answered {method} with no JSON: {answer.snippet or '(empty)'}")
    if body.get("ok") is True and 200 <= answer.status_code < 300:
        return body.get("result")
    code = body.get("error_code", answer.status_code)
    description = str(body.get("description") or "no description")
    detail = f"Telegram error {code}: {description}"
    if code == 401:
        raise PermanentSendError(f"Telegram refused the bot token: {description}")
    if code == 403 and any(words in description.lower() for words in _STOPPED):
        raise RecipientStopped(detail)
    if code == 429:
        parameters = body.get("parameters") or {}
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        seconds = float(retry_after) if isinstance(retry_after, int | float) else answer.retry_after
        raise TransientSendError(detail, retry_after=seconds)
    http.check_status(answer, detail)
    raise PermanentSendError(detail)  # a 2xx with ok=false: Telegram said no
