"""Sending through Vonage's SMS API: one form POST to `{base_url}/sms/json` per message (Vonage splits a long text
into parts itself), and its answer read into a `SendResult` or a send error.

Vonage answers 200 whatever happened, with one entry per part in `messages`; an entry's `status` other than "0" is
an error with its `error-text`. Throttling and Vonage's own internal errors are worth retrying; every other status
says the same request will fail again (a bad parameter, a barred number, wrong credentials, no balance).
"""

from typing import Any
from urllib.parse import urlencode

from herald.channels import http
from herald.channels.base import (
    OutgoingMsg,
    PermanentSendError,
    SendResult,
    TransientSendError,
    text_with_replies,
    urn_of,
)
from herald.channels.gsm7 import is_gsm7

# Statuses worth a retry: 1 Throttled, 5 Internal Error.
TRANSIENT = {"1": "Throttled", "5": "Internal Error"}
# The rest of the SMS API's send statuses, by name; what to do about a few of them, in words.
PERMANENT = {
    "2": "Missing Parameters",
    "3": "Invalid Parameters",
    "4": "Invalid Credentials",
    "6": "Invalid Message",
    "7": "Number Barred",
    "8": "Partner Account Barred",
    "9": "Partner Quota Violation",
    "10": "Too Many Existing Binds",
    "11": "Account Not Enabled For HTTP",
    "12": "Message Too Long",
    "14": "Invalid Signature",
    "15": "Invalid Sender Address",
    "22": "Invalid Network Code",
    "23": "Invalid Callback URL",
    "29": "Non-Whitelisted Destination",
    "32": "Signature And API Secret Disallowed",
    "33": "Number De-activated",
}
ADVICE = {
    "4": "check the channel's api_key and api_secret",
    "8": "the Vonage account is barred: contact Vonage",
    "9": "the Vonage account has insufficient balance: top it up",
    "15": "the channel's address is not a sender Vonage accepts for this account",
    "29": "a trial account sends only to the numbers it has verified",
}


def form(config: dict[str, str], address: str, msg: OutgoingMsg, receipt_url: str | None) -> dict[str, str]:
    """The request's parameters, in the order Vonage's reference lists them."""
    text = text_with_replies(msg, with_attachments=True)  # the SMS API carries no media and no buttons
    params = {
        "api_key": config["api_key"],
        "api_secret": config["api_secret"],
        "from": address.removeprefix("+"),
        "to": urn_of(msg).split(":", 1)[1].removeprefix("+"),
        "text": text,
        "type": "text" if is_gsm7(text) else "unicode",
        "client-ref": str(msg.uuid),
        "status-report-req": "1",
    }
    if receipt_url:
        params["callback"] = receipt_url
    return params


def send(config: dict[str, str], address: str, msg: OutgoingMsg, receipt_url: str | None) -> SendResult:
    """Hand `msg` over from `address` with the channel's (checked) `config`."""
    answer = http.request(
        "POST",
        config["base_url"] + "/sms/json",
        content=urlencode(form(config, address, msg, receipt_url)),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        check=False,
    )
    http.check_status(answer)  # 200 is the rule; a proxy's 5xx or a 429 is still an answer to read
    body = answer.json()
    entries = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(entries, list) or not entries or not all(isinstance(entry, dict) for entry in entries):
        raise PermanentSendError(f"unexpected answer from Vonage: {answer.snippet or '(empty)'}")
    for entry in entries:
        _check(entry)
    return SendResult(external_id=str(entries[0].get("message-id") or "") or None)


def _check(entry: dict[str, Any]) -> None:
    status = str(entry.get("status", ""))
    if status == "0":
        return
    name = TRANSIENT.get(status) or PERMANENT.get(status, "unlisted status")
    detail = f"Vonage status {status} ({name}): {entry.get('error-text') or '(no error-text)'}"
    if status in TRANSIENT:
        raise TransientSendError(detail)
    advice = ADVICE.get(status)
    raise PermanentSendError(f"{detail}; {advice}" if advice else detail)
