"""`vonage`: SMS through Vonage's SMS API (formerly Nexmo; RapidPro's "Vonage" channel).

Sending is `send.py`, the receipts and incoming messages Vonage calls back with are `webhooks.py`, their signature
(when the channel has a `signature_secret`) `signature.py`. Vonage has no opt-out signal of its own: a contact's
STOP arrives as an incoming message and Herald's stop words act on it.
"""

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest

from herald.channels import http
from herald.channels.base import (
    CallbackEvents,
    ChannelConfigError,
    ChannelType,
    OutgoingMsg,
    SendError,
    SendResult,
)
from herald.channels.models import Channel

from . import config, send, webhooks


class VonageType(ChannelType):
    code = "vonage"
    name = "Vonage"
    schemes = ("tel",)
    config_keys = config.KEYS
    required_config = config.REQUIRED
    config_defaults = config.DEFAULTS
    # The SMS API's default throughput per account: 30 requests a second.
    default_tps = 30
    callback_path = "nx"
    callback_url_name = "channels.vonage.callback"
    callback_actions = webhooks.ACTIONS
    callback_help = (
        "Callback URLs for Vonage: `receipt` goes with each message (or set it as the dashboard's Delivery receipts"
        " webhook), `receive` is the number's Inbound webhook URL:"
    )
    # Vonage retries a webhook that isn't answered 200: a receipt of a message Herald doesn't know is accepted.
    ignores_unknown_reports = True

    def read_callback(self, request: HttpRequest, channel: Channel, action: str) -> CallbackEvents:
        return webhooks.read(request, channel, action)

    def verify_credentials(self, channel_config: dict[str, Any], address: str) -> None:
        if not address:
            raise ChannelConfigError(
                "--address is required: the Vonage number or sender ID messages are sent from", field="address"
            )
        query = urlencode({"api_key": channel_config["api_key"], "api_secret": channel_config["api_secret"]})
        url = f"{channel_config['base_url']}/account/get-balance?{query}"
        try:
            answer = http.request("GET", url, check=False)
        except SendError as exc:
            raise ChannelConfigError(f"could not check the credentials with Vonage: {exc.detail}") from None
        if answer.status_code == 401:
            raise ChannelConfigError("Vonage refused api_key / api_secret (HTTP 401): check both in its dashboard")
        if answer.status_code != 200:
            raise ChannelConfigError(f"Vonage answered HTTP {answer.status_code} to the credentials check")

    def send(self, channel: Channel, msg: OutgoingMsg) -> SendResult:
        # Without HERALD_BASE_URL there is no receipt URL: Vonage then uses the account's default receipt webhook.
        receipt_url = self.public_callback_url(channel, webhooks.RECEIPT)
        return send.send(self.config_for_send(channel), channel.address or "", msg, receipt_url)
