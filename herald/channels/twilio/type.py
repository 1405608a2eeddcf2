"""The `twilio` channel type: SMS and MMS through Twilio's Messages API (courier's `handlers/twilio`, RapidPro's
`TwilioType`), from the channel's number or a Messaging Service, with Twilio's signed status and incoming-message
webhooks. Twilio's WhatsApp is not this type."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpResponse

from herald.channels import http
from herald.channels.base import ChannelConfigError, ChannelType, OutgoingMsg, SendError, SendResult
from herald.channels.callback_requests import CallbackRejected
from herald.channels.twilio import config, receive, reports, send

if TYPE_CHECKING:
    from django.http import HttpRequest

    from herald.channels.base import CallbackEvents
    from herald.channels.models import Channel

# What Twilio expects back from a webhook: TwiML, here saying nothing (no reply message).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class TwilioType(ChannelType):
    code = "twilio"
    name = "Twilio"
    schemes = ("tel",)
    config_keys = config.KEYS
    required_config = config.REQUIRED
    config_defaults = config.DEFAULTS
    # Twilio queues what a number can't send at once (1 segment a second for a US long code); none imposed here.
    default_tps = None
    callback_path = "tw"
    callback_url_name = "channels.twilio.callback"
    callback_actions = (reports.STATUS, receive.RECEIVE)
    callback_help = (
        "In the Twilio console, paste `receive` as the number's (or Messaging Service's) incoming-message webhook "
        "(HTTP POST); `status` is sent with each message as its StatusCallback:"
    )
    ignores_unknown_reports = True

    def validate_config(self, channel_config: dict[str, Any]) -> dict[str, Any]:
        return config.validate_config(super().validate_config(channel_config))

    def verify_credentials(self, channel_config: dict[str, Any], address: str) -> None:
        config.check_sender(channel_config, address)
        try:
            answer = http.request(
                "GET",
                send.account_url(channel_config, ".json"),
                headers={"Authorization": send.basic_auth(channel_config)},
                check=False,
            )
        except SendError as exc:  # no answer at all, an invalid URL
            raise ChannelConfigError(f"could not ask Twilio about the account: {exc.detail}") from None
        if answer.status_code != 200:
            body = answer.json()
            said = body.get("message") if isinstance(body, dict) else answer.snippet
            raise ChannelConfigError(
                f"Twilio refused account_sid / auth_token (HTTP {answer.status_code}): {said or '(no message)'}"
            )

    def read_callback(self, request: HttpRequest, channel: Channel, action: str) -> CallbackEvents:
        if action == receive.RECEIVE:
            return receive.read_incoming(request, channel)
        if action == reports.STATUS:
            return reports.read_status(request, channel)
        raise CallbackRejected(404, f"unknown action {action!r}: Twilio calls back to status or receive")

    def callback_answer(self, request: HttpRequest, action: str, data: list[dict[str, Any]]) -> HttpResponse:
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")

    def send(self, channel: Channel, msg: OutgoingMsg) -> SendResult:
        # The status URL naming the message; none without HERALD_BASE_URL (Twilio takes absolute URLs only).
        url = self.public_callback_url(channel, reports.STATUS)
        return send.send(channel, msg, f"{url}?id={msg.uuid}" if url else None)
