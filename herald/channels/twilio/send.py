"""Sending through Twilio's Messages API: `POST {base_url}/2010-04-01/Accounts/{AccountSid}/Messages.json`, a form
(To, From or MessagingServiceSid, Body, MediaUrl repeated, StatusCallback) with HTTP Basic auth, answered 201 with
the message's `sid`, or with Twilio's error JSON `{"code", "message", "more_info", "status"}`."""

import base64
from typing import Any
from urllib.parse import quote, urlencode

from herald.channels import http
from herald.channels.attachments import MB, sized_attachments
from herald.channels.base import (
    OutgoingMsg,
    PermanentSendError,
    RecipientStopped,
    SendResult,
    TransientSendError,
    text_with_replies,
    urn_of,
)
from herald.channels.models import Channel

# Twilio's MMS limits: 10 media a message, 5 MB for all of them together.
MAX_MEDIA = 10
MAX_MEDIA_BYTES = 5 * MB

# Twilio's error codes that mean something other than their HTTP status says.
UNSUBSCRIBED = 21610  # the recipient replied STOP: the contact opted out
AUTHENTICATE = 20003  # wrong account SID or auth token
TOO_MANY_REQUESTS = 20429


def account_url(config: dict[str, Any], *parts: str) -> str:
    return f"{config['base_url']}/2010-04-01/Accounts/{quote(config['account_sid'], safe='')}" + "".join(parts)


def basic_auth(config: dict[str, Any]) -> str:
    pair = f"{config['account_sid']}:{config['auth_token']}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def message_form(channel: Channel, msg: OutgoingMsg, status_url: str | None) -> list[tuple[str, str]]:
    config = channel.config
    form = [("To", urn_of(msg).split(":", 1)[1])]
    if config.get("messaging_service_sid"):
        form.append(("MessagingServiceSid", config["messaging_service_sid"]))
    elif channel.address:
        form.append(("From", channel.address))
    else:
        raise PermanentSendError("channel config: neither messaging_service_sid nor an address to send from")
    text = text_with_replies(msg)  # SMS has no buttons: quick replies go in the text
    if text:
        form.append(("Body", text))
    media = sized_attachments(msg, {"": MAX_MEDIA_BYTES}, provider="Twilio")
    if len(media) > MAX_MEDIA:
        raise PermanentSendError(f"Twilio takes at most {MAX_MEDIA} attachments a message, this one has {len(media)}")
    total = sum(attachment.size or 0 for attachment in media)
    if total > MAX_MEDIA_BYTES:
        raise PermanentSendError(f"attachments are {total / MB:.1f} MB together: Twilio takes at most 5 MB a message")
    form += [("MediaUrl", attachment.url) for attachment in media]
    if status_url:
        form.append(("StatusCallback", status_url))
    return form


def send(channel: Channel, msg: OutgoingMsg, status_url: str | None) -> SendResult:
    config = channel.config
    answer = http.request(
        "POST",
        account_url(config, "/Messages.json"),
        content=urlencode(message_form(channel, msg, status_url)),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic_auth(config)},
        check=False,
    )
    body = answer.json()
    if 200 <= answer.status_code < 300:
        if not isinstance(body, dict) or not isinstance(body.get("sid"), str) or not body["sid"]:
            raise PermanentSendError(f"Twilio's answer has no message sid: {answer.snippet or '(empty)'}")
        return SendResult(external_id=body["sid"])
    raise_error(answer)
    raise AssertionError("unreachable")  # raise_error always raises for a non-2xx answer


def raise_error(answer: http.Answer) -> None:
    """The send error for Twilio's error answer: by its code where the code says more than the HTTP status."""
    body = answer.json()
    code = body.get("code") if isinstance(body, dict) else None
    message = str(body.get("message") or "") if isinstance(body, dict) else ""
    detail = f"Twilio error {code}: {message}" if code else ""
    if code == UNSUBSCRIBED:
        raise RecipientStopped(detail)
    if code == AUTHENTICATE or answer.status_code == 401:
        raise PermanentSendError(
            (detail or "Twilio refused the credentials") + " (check the channel's account_sid and auth_token)"
        )
    if code == TOO_MANY_REQUESTS:
        raise TransientSendError(detail, retry_after=answer.retry_after)
    http.check_status(answer, detail)
