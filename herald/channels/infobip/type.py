"""`infobip`: SMS through Infobip's API (`/sms/2/text/advanced`, authenticated by an `App` API key).

Sending is one JSON request per message (`send.py`: the request and how each answer is classed); delivery reports
and incoming messages come back as batches to the channel's callback URLs (`callbacks.py`). Infobip signs neither:
the secret in the callback URL authenticates them.
"""

from typing import Any

from django.http import HttpRequest

from herald.channels.base import CallbackEvents, ChannelType, OutgoingMsg, SendResult
from herald.channels.models import Channel

from . import callbacks, send


class InfobipType(ChannelType):
    code = "infobip"
    name = "Infobip"
    schemes = ("tel",)
    config_keys = {
        "base_url": "the account's API base URL, https://<your id>.api.infobip.com (default https://api.infobip.com)",
        "api_key": "the API key, sent as `Authorization: App <api_key>`",
    }
    required_config = ("api_key",)
    config_defaults = {"base_url": "https://api.infobip.com"}
    callback_path = "ib"
    callback_url_name = "channels.infobip.callback"
    callback_actions = (callbacks.DELIVERED, callbacks.RECEIVE)
    callback_help = (
        "Callback URLs for Infobip (delivered: sent with each message as its notifyUrl, nothing to paste;"
        " receive: the forwarding URL of the number's inbound SMS configuration, JSON):"
    )
    # Infobip retries a report webhook that fails: one for a message Herald never sent is taken and ignored.
    ignores_unknown_reports = True

    def verify_credentials(self, config: dict[str, Any], address: str) -> None:
        send.verify_credentials(config)

    def send(self, channel: Channel, msg: OutgoingMsg) -> SendResult:
        return send.send(channel, msg, self.public_callback_url(channel, send.DELIVERY))

    def read_callback(self, request: HttpRequest, channel: Channel, action: str) -> CallbackEvents:
        if action == callbacks.RECEIVE:
            return callbacks.read_incoming(request, channel)
        return callbacks.read_reports(request)
