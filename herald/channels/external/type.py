"""`external`: a generic HTTP gateway, configured like RapidPro's "External API" channel.

Each message is one HTTP request, built from the channel's config (`config.py`: its keys and checks) by filling in
the URL and body templates (`template.py`: the variables and how each is escaped); delivery reports come back
through `reports.py`.
"""

from typing import Any

from django.http import HttpRequest

from herald.channels import http
from herald.channels.base import (
    CallbackEvent,
    ChannelType,
    DeliveryReport,
    OutgoingMsg,
    PermanentSendError,
    SendResult,
    attachment_urls,
    quick_reply_texts,
    urn_of,
)
from herald.channels.models import Channel

from . import config, receive, reports
from .template import render


class ExternalType(ChannelType):
    code = "external"
    name = "External API"
    schemes = ("tel",)
    config_keys = config.KEYS
    callback_path = "ex"
    callback_url_name = "channels.external.callback"
    callback_actions = (*reports.ACTIONS, receive.RECEIVE, receive.STOPPED)
    callback_help = (
        "Callback URLs for the gateway (GET or POST; reports: the message's {{id}} as `id`;"
        " receive: `from`, `text`; stopped: `from`):"
    )

    def read_report(self, request: HttpRequest, action: str) -> DeliveryReport:
        return reports.read_report(request, action)

    def read_callback(self, request: HttpRequest, channel: Channel, action: str) -> CallbackEvent:
        if action == receive.RECEIVE:
            return receive.read_incoming(request, channel)
        if action == receive.STOPPED:
            return receive.read_stop(request, channel)
        return reports.read_report(request, action)

    def validate_config(self, channel_config: dict[str, Any]) -> dict[str, Any]:
        # RapidPro's names first: the base refuses keys it doesn't know, and `method` / `body` are only aliases.
        return config.validate_config(super().validate_config(config.resolve_aliases(channel_config)))

    def send(self, channel: Channel, msg: OutgoingMsg) -> SendResult:
        channel_config = self.config_for_send(channel)
        to = urn_of(msg).split(":", 1)[1]
        address = channel.address or ""
        text = "\n".join(part for part in [msg.text, *attachment_urls(msg)] if part)
        values = {
            "text": text,
            "to": to,
            "to_no_plus": to.removeprefix("+"),
            "from": address,
            "from_no_plus": address.removeprefix("+"),
            "id": str(msg.uuid),
            "channel": str(channel.uuid),
            "session_status": "",
        }
        replies = quick_reply_texts(msg)
        content_type = channel_config["content_type"]

        url = render(channel_config["send_url"], values, replies, "urlencoded")
        headers: dict[str, str] = {}
        body = None
        if channel_config["send_method"] in ("POST", "PUT"):
            body = render(channel_config["send_body"], values, replies, content_type).encode()
            headers["Content-Type"] = config.CONTENT_TYPES[content_type]
        if channel_config.get("send_authorization"):
            headers["Authorization"] = channel_config["send_authorization"]
        headers.update(channel_config["headers"])

        answer = http.request(channel_config["send_method"], url, content=body, headers=headers)
        check = channel_config.get("mt_response_check")
        if check and check not in answer.text:
            raise PermanentSendError(f"gateway answer does not contain {check!r}: {answer.snippet or '(empty)'}")
        return SendResult()
