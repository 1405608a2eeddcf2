"""The sender contract every channel type implements.

A channel type turns one outgoing `Msg` into a hand-over to the outside world (a line on the console, an HTTP
request to a gateway ...). It answers in one of three ways, and the delivery loop maps each to a status
(`herald.msgs.status.record_send_result`):

- returns a `SendResult`            -> the message is `wired` (handed over);
- raises `TransientSendError`       -> `errored`, tried again later with back-off (timeouts, 5xx, connection
                                       refused: retrying could help; `GatewayUnreachable` when there was
                                       no answer at all);
- raises `PermanentSendError`       -> `failed` at once (4xx, an unexpected answer, a broken configuration:
                                       retrying the same request would get the same answer).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest

    from herald.channels.models import Channel

# An outgoing message: a herald.msgs.models.Msg, which lives a layer above channels and so isn't imported here.
OutgoingMsg = Any


@dataclass(frozen=True)
class SendResult:
    """A message handed over. `external_id` is the gateway's own id for it, if it gave one."""

    external_id: str | None = None


# The statuses a gateway may report for a message it was given, by name; `herald.msgs.reports` applies them.
REPORTED_STATUSES = ("sent", "delivered", "failed")


@dataclass(frozen=True)
class DeliveryReport:
    """What a gateway's report says: the message (its UUID, as sent) and one of REPORTED_STATUSES."""

    msg_uuid: uuid.UUID
    status: str


@dataclass(frozen=True)
class IncomingMessage:
    """A message a contact sent, as a gateway's callback gives it: the sender's URN (normalised, in the channel's
    country for `tel`), the text, when the provider received it (None: now) and the provider's id for it, if any
    (a retried callback with the same id stores one message)."""

    urn: str
    text: str
    received_on: datetime | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class StopSignal:
    """A provider's word that the contact at `urn` opted out (RapidPro's `stop_contact` channel event)."""

    urn: str


# The longest incoming text Herald stores: the longest a message it sends may be once rendered (goflow's
# MaxTemplateChars, herald.msgs.models.Msg.MAX_RENDERED_TEXT_LEN).
MAX_INCOMING_TEXT = 10_000
# The longest provider message id kept (the message's external_id column).
MAX_EXTERNAL_ID = 255

# What a channel type reads out of one callback request.
CallbackEvent = DeliveryReport | IncomingMessage | StopSignal


class SendError(Exception):
    """A message not handed over; `detail` says why in words a channel owner can act on."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class TransientSendError(SendError):
    pass


class GatewayUnreachable(TransientSendError):
    """No answer at all: a timeout, a refused or dropped connection. Unlike an error answer (a 5xx), a run of these
    means the gateway is down or hanging, which pauses the channel (the circuit breaker in `herald.msgs.delivery`)."""


class PermanentSendError(SendError):
    pass


class ChannelConfigError(ValueError):
    """A channel's settings can't work; the message names the setting and what is expected."""


class ChannelType:
    """One kind of channel. Subclasses set `code`, `name`, `schemes` and implement `send`.

    Instances are stateless singletons kept in `herald.channels.registry.TYPES`.
    """

    code: str = ""
    name: str = ""
    # URN schemes a new channel of this type serves unless told otherwise.
    schemes: tuple[str, ...] = ("tel",)
    # Config keys this type understands, with a one-line description each (shown in errors and help).
    config_keys: dict[str, str] = {}
    # Where its gateways call back (see herald/channels/callbacks.py): `/c/<callback_path>/<channel uuid>/<secret>/
    # <action>`, the URL pattern's name, and the actions a channel's URLs are printed for (each read by
    # `read_report`). A type without callbacks has none.
    callback_path: str = ""
    callback_url_name: str = ""
    callback_actions: tuple[str, ...] = ()

    def read_report(self, request: HttpRequest, action: str) -> DeliveryReport:
        """What a callback request to `action` reports; raises `CallbackRejected` for one that can't be read."""
        raise NotImplementedError(f"channel type {self.code!r} takes no delivery reports")

    def read_callback(self, request: HttpRequest, channel: Channel, action: str) -> CallbackEvent:
        """What a callback request to `action` says: a delivery report, an incoming message or a stop signal.
        Raises `CallbackRejected` for one that can't be read. The base knows delivery reports only."""
        return self.read_report(request, action)

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """Check a channel's config and return it normalised (defaults filled in).

        Raises `ChannelConfigError` naming the first missing or invalid key. The base accepts only an empty config.
        """
        config = dict(config or {})
        unknown = sorted(set(config) - set(self.config_keys))
        if unknown:
            known = ", ".join(sorted(self.config_keys)) or "none"
            raise ChannelConfigError(
                f"unknown config key {unknown[0]!r} for channel type {self.code!r} (known keys: {known})"
            )
        return config

    def send(self, channel: Channel, msg: OutgoingMsg) -> SendResult:
        """Hand `msg` (with `channel`, `contact_urn`, `text`, `attachments`, `quick_replies`, `uuid` loaded) over."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<ChannelType {self.code}>"


def urn_of(msg: OutgoingMsg) -> str:
    """The `scheme:path` a message goes to; a message without a URN can't be sent anywhere."""
    urn = msg.contact_urn
    if urn is None:
        raise PermanentSendError("message has no URN to send to")
    return str(urn.identity)


def attachment_urls(msg: OutgoingMsg) -> list[str]:
    """Attachments are stored as `content-type:url`; gateways that only take text get the URLs."""
    urls = []
    for attachment in msg.attachments or []:
        content_type, _, url = attachment.partition(":")
        urls.append(url if "/" in content_type else attachment)
    return urls


def quick_reply_texts(msg: OutgoingMsg) -> list[str]:
    return [reply.get("text", "") if isinstance(reply, dict) else str(reply) for reply in msg.quick_replies or []]
