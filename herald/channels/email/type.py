"""`email`: messages to `mailto:` URNs handed to the channel's own SMTP server (config.py: host, port, TLS, login;
the sender is the channel's `--address`). message.py builds the e-mail, smtp.py holds the session and its error
mapping, unsubscribe.py the one-click link that stops a contact. Bounces are not read (the README says so).
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from herald.channels.base import (
    CallbackEvents,
    ChannelConfigError,
    ChannelType,
    OutgoingMsg,
    PermanentSendError,
    SendError,
    SendResult,
    urn_of,
)
from herald.channels.callback_requests import CallbackRejected
from herald.channels.models import Channel

from . import config, message, smtp, unsubscribe


class EmailType(ChannelType):
    code = "email"
    name = "E-mail (SMTP)"
    schemes = ("mailto",)
    config_keys = config.KEYS
    required_config = config.REQUIRED
    config_defaults = config.DEFAULTS
    callback_path = "email"
    callback_url_name = unsubscribe.URL_NAME
    # Not pasted anywhere: each e-mail carries its own link (this URL plus the message, URN and token).
    callback_actions = (unsubscribe.ACTION,)
    callback_help = "Unsubscribe links in each e-mail start with (nothing to paste anywhere):"

    def validate_config(self, channel_config: dict[str, Any]) -> dict[str, Any]:
        channel_config = dict(channel_config or {})
        if isinstance(channel_config.get("port"), int):  # a JSON number is as good as its digits
            channel_config["port"] = str(channel_config["port"])
        return config.validate_config(super().validate_config(channel_config))

    def verify_credentials(self, channel_config: dict[str, Any], address: str) -> None:
        config.checked_address(address)
        try:
            with smtp.session(channel_config) as client:
                client.noop()
        except SendError as exc:
            raise ChannelConfigError(f"could not use the SMTP server: {exc.detail}") from None

    def activate(self, channel: Channel, callback_urls: dict[str, str]) -> str:
        if not settings.BASE_URL:  # unsubscribe links are absolute URLs
            return "Warning: HERALD_BASE_URL is not set, so e-mails go without an unsubscribe link until it is."
        return ""

    def read_callback(self, request: HttpRequest, channel: Channel, action: str) -> CallbackEvents:
        if action != unsubscribe.ACTION:
            raise CallbackRejected(404, f"unknown action {action!r}: email channels have {unsubscribe.ACTION!r} only")
        return unsubscribe.read_click(request, channel)

    def callback_answer(self, request: HttpRequest, action: str, data: list[dict[str, Any]]) -> HttpResponse | None:
        return unsubscribe.unsubscribed_page()

    def send(self, channel: Channel, msg: OutgoingMsg) -> SendResult:
        channel_config = self.config_for_send(channel)
        try:
            sender = config.checked_address(channel.address or "")
        except ChannelConfigError as exc:
            raise PermanentSendError(f"channel address: {exc}") from exc
        urn = urn_of(msg)
        scheme, _, to = urn.partition(":")
        if scheme != "mailto":
            raise PermanentSendError(f"an email channel sends to mailto: addresses only, not {scheme}:")
        email = message.compose(
            msg,
            sender_name=channel.name,
            sender=sender,
            to=to,
            unsubscribe_url=unsubscribe.unsubscribe_url(
                self.public_callback_url(channel, unsubscribe.ACTION), channel, str(msg.uuid), urn
            ),
        )
        with smtp.session(channel_config) as client:
            client.send_message(email, from_addr=sender, to_addrs=[to])
        return SendResult(external_id=email["Message-ID"])
