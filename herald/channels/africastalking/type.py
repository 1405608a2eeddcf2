"""`africastalking`: bulk SMS through Africa's Talking (`POST /version1/messaging`, an `apiKey` header and the
account's `username`; RapidPro's "Africa's Talking" channel).

Sending is `send.py` (one form request per message, and how each recipient status is classed); delivery reports,
incoming messages and opt-out notifications come back to the channel's callback URLs (`callbacks.py`). Africa's
Talking signs none of them: the secret in the callback URL authenticates them.
"""

from typing import Any

from django.http import HttpRequest

from herald.channels.base import CallbackEvents, ChannelType, OutgoingMsg, SendResult
from herald.channels.models import Channel

from . import callbacks, send


class AfricasTalkingType(ChannelType):
    code = "africastalking"
    name = "Africa's Talking"
    schemes = ("tel",)
    config_keys = {
        "base_url": "the API, https://api.africastalking.com (the sandbox: https://api.sandbox.africastalking.com)",
        "username": "the application's username (`sandbox` for the sandbox)",
        "api_key": "the application's API key, sent in the `apiKey` header",
    }
    required_config = ("username", "api_key")
    config_defaults = {"base_url": send.API_URL}
    callback_path = "at"
    callback_url_name = "channels.africastalking.callback"
    callback_actions = (callbacks.DELIVERY, callbacks.RECEIVE, callbacks.OPTOUT)
    callback_help = (
        "Callback URLs for Africa's Talking (its dashboard, SMS > Callback URLs: delivery reports, incoming"
        " messages, bulk SMS opt-out):"
    )
    # Africa's Talking retries a callback that fails: a report of a message Herald never sent is taken and ignored.
    ignores_unknown_reports = True

    def verify_credentials(self, config: dict[str, Any], address: str) -> None:
        send.verify_credentials(config)

    def send(self, channel: Channel, msg: OutgoingMsg) -> SendResult:
        return send.send(self.config_for_send(channel), channel.address or "", msg)

    def read_callback(self, request: HttpRequest, channel: Channel, action: str) -> CallbackEvents:
        return callbacks.read(request, channel, action)
