"""Sending one SMS through Infobip (`POST {base_url}/sms/2/text/advanced`), and checking an API key.

Infobip answers a request it took with a status per destination: its group says whether the message is on its way
(PENDING) or already refused (REJECTED, UNDELIVERABLE: a bad number, a blocked sender ...), which fails the message
at once. A refused request carries `{"requestError": {"serviceException": {"messageId", "text"}}}`.
"""

import json
from typing import Any

from herald.channels import http
from herald.channels.base import (
    ChannelConfigError,
    OutgoingMsg,
    PermanentSendError,
    SendError,
    SendResult,
    text_with_replies,
    urn_of,
)
from herald.channels.models import Channel

SEND_PATH = "/sms/2/text/advanced"
BALANCE_PATH = "/account/1/balance"
# Status groups (Infobip's "Response status and error codes") that mean the message will never be delivered.
FAILED_GROUPS = {2: "UNDELIVERABLE", 4: "EXPIRED", 5: "REJECTED"}
DELIVERY = "delivered"


def headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"App {api_key}", "Accept": "application/json"}


def send(channel: Channel, msg: OutgoingMsg, notify_url: str | None) -> SendResult:
    """`notify_url`: where Infobip posts this message's delivery report; none without HERALD_BASE_URL (Infobip needs
    an absolute URL: the report URL is then set in Infobip's portal instead)."""
    config = channel.config
    message: dict[str, Any] = {
        "from": channel.address or "",
        # Infobip takes numbers in international format without the "+".
        "destinations": [{"to": urn_of(msg).split(":", 1)[1].removeprefix("+"), "messageId": str(msg.uuid)}],
        # No media on this endpoint: attachment URLs and quick replies go in the text.
        "text": text_with_replies(msg, with_attachments=True),
        "callbackData": str(msg.uuid),
    }
    if notify_url:
        message |= {"notifyUrl": notify_url, "notifyContentType": "application/json"}
    answer = http.request(
        "POST",
        config["base_url"] + SEND_PATH,
        content=json.dumps({"messages": [message]}),
        headers={**headers(config["api_key"]), "Content-Type": "application/json"},
        check=False,
    )
    http.check_status(answer, request_error(answer))
    return _accepted(answer)


def _accepted(answer: http.Answer) -> SendResult:
    body = answer.json()
    try:
        [sent] = body["messages"]
        status = sent["status"]
        group = status["groupId"]
    except (KeyError, TypeError, ValueError):
        raise PermanentSendError(f"unexpected answer from Infobip: {answer.snippet or '(empty)'}") from None
    if group in FAILED_GROUPS:
        name = status.get("name") or FAILED_GROUPS[group]
        raise PermanentSendError(f"Infobip {name}: {status.get('description') or status.get('groupName', '')}")
    return SendResult(external_id=str(sent.get("messageId") or "") or None)


def request_error(answer: http.Answer) -> str:
    """Infobip's own words for a refused request ("UNAUTHORIZED: Invalid login details"), or "" for an answer
    without them (a proxy's page)."""
    body = answer.json()
    try:
        error = body["requestError"]["serviceException"]
    except (KeyError, TypeError):
        return ""
    return f"Infobip HTTP {answer.status_code} {error.get('messageId', '')}: {error.get('text', '')}"


def verify_credentials(config: dict[str, Any]) -> None:
    """Ask for the account's balance: Infobip answers 401 to a wrong API key."""
    try:
        answer = http.request("GET", config["base_url"] + BALANCE_PATH, headers=headers(config["api_key"]), check=False)
        http.check_status(answer, request_error(answer))
    except SendError as exc:
        raise ChannelConfigError(
            f"Infobip did not accept the api_key at {config['base_url']}: {exc.detail}", field="api_key"
        ) from None
