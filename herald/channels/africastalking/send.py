"""Sending one SMS through Africa's Talking (`POST {base_url}/version1/messaging`, a form), and checking an API key.

Africa's Talking answers a request it took (201) with a status per recipient (`SMSMessageData.Recipients`): 100
Processed, 101 Sent and 102 Queued mean it is on its way; the others refuse the message. A refused request (a bad
key, a missing field) is a 4xx with a line of text.
"""

from typing import Any
from urllib.parse import urlencode

from herald.channels import http
from herald.channels.base import (
    ChannelConfigError,
    OutgoingMsg,
    PermanentSendError,
    RecipientStopped,
    SendError,
    SendResult,
    TransientSendError,
    text_with_replies,
    urn_of,
)

API_URL = "https://api.africastalking.com"
SEND_PATH = "/version1/messaging"
USER_PATH = "/version1/user"

ACCEPTED = {100: "Processed", 101: "Sent", 102: "Queued"}
# Worth another try later: Africa's Talking's own or its gateway's trouble.
TRANSIENT = {500: "InternalServerError", 501: "GatewayError", 502: "RejectedByGateway"}
# The number opted out of the sender's messages: the contact is stopped.
OPTED_OUT = {406: "UserInBlacklist"}
# Everything else refuses the message for good: 401 RiskHold, 402 InvalidSenderId, 403 InvalidPhoneNumber,
# 404 UnsupportedNumberType, 405 InsufficientBalance, 407 CouldNotRoute, 409 DoNotDisturbRejection.
HINTS = {
    402: "the channel's --address is not a sender ID or short code of this account",
    405: "top up the account",
    409: "the number has Do Not Disturb on for promotional messages",
}


def headers(config: dict[str, Any]) -> dict[str, str]:
    return {"apiKey": config["api_key"], "Accept": "application/json"}


def send(config: dict[str, Any], sender: str, msg: OutgoingMsg) -> SendResult:
    form = {
        "username": config["username"],
        "to": urn_of(msg).split(":", 1)[1],
        # No media: attachment URLs and quick replies go in the text.
        "message": text_with_replies(msg, with_attachments=True),
        "bulkSMSMode": "1",
    }
    if sender:
        form["from"] = sender
    answer = http.request(
        "POST",
        config["base_url"] + SEND_PATH,
        content=urlencode(form),
        headers={**headers(config), "Content-Type": "application/x-www-form-urlencoded"},
        check=False,
    )
    http.check_status(answer, _refusal(answer))
    return _accepted(answer)


def _refusal(answer: http.Answer) -> str:
    if answer.status_code == 401:
        return f"Africa's Talking refused the api_key / username (HTTP 401): {answer.snippet}"
    return f"Africa's Talking answered HTTP {answer.status_code}: {answer.snippet}" if answer.snippet else ""


def _accepted(answer: http.Answer) -> SendResult:
    body = answer.json()
    try:
        [recipient] = body["SMSMessageData"]["Recipients"]
        code = int(recipient["statusCode"])
    except (KeyError, TypeError, ValueError):
        # No recipient: the request was refused as a whole, its reason in `Message` (e.g. "InvalidSenderId").
        data = body.get("SMSMessageData") if isinstance(body, dict) else None
        message = data.get("Message") if isinstance(data, dict) else None
        raise PermanentSendError(
            f"Africa's Talking sent nothing: {message}"
            if message
            else f"unexpected answer from Africa's Talking: {answer.snippet or '(empty)'}"
        ) from None
    if code in ACCEPTED:
        return SendResult(external_id=str(recipient.get("messageId") or "") or None)
    detail = f"Africa's Talking status {code} ({recipient.get('status', '')})"
    if code in OPTED_OUT:
        raise RecipientStopped(f"{detail}: the number opted out of this sender's messages")
    if code in TRANSIENT:
        raise TransientSendError(detail)
    raise PermanentSendError(f"{detail}: {HINTS[code]}" if code in HINTS else detail)


def verify_credentials(config: dict[str, Any]) -> None:
    """Ask for the application's data: Africa's Talking answers 401 to a wrong key or username."""
    url = f"{config['base_url']}{USER_PATH}?{urlencode({'username': config['username']})}"
    try:
        answer = http.request("GET", url, headers=headers(config), check=False)
        http.check_status(answer, _refusal(answer))
    except SendError as exc:
        raise ChannelConfigError(f"could not use the credentials at {config['base_url']}: {exc.detail}") from None
