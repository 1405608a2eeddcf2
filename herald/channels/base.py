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

import functools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from herald.channels.models import Channel

# An outgoing message: a herald.msgs.models.Msg, which lives a layer above channels and so isn't imported here.
OutgoingMsg = Any


@dataclass(frozen=True)
class SendResult:
    """A message handed over. `external_id` is the gateway's own id for it, if it gave one."""

    external_id: str | None = None


@dataclass(frozen=True)
class ProviderTemplate:
    """One template in one language, as the provider lists it, in Herald's terms (see models.TemplateTranslation)."""

    name: str
    locale: str
    external_locale: str
    status: str  # a TemplateStatus value
    components: list[dict[str, Any]] = field(default_factory=list)
    variables: list[dict[str, str]] = field(default_factory=list)
    external_id: str = ""
    namespace: str = ""


# The statuses a gateway may report for a message it was given, by name; `herald.msgs.reports` applies them.
REPORTED_STATUSES = ("sent", "delivered", "failed")
# What a provider type may report besides (WhatsApp says when a message was read).
PROVIDER_STATUSES = (*REPORTED_STATUSES, "read")


@dataclass(frozen=True)
class DeliveryReport:
    """What a gateway's report says: the message, by its UUID as sent (`msg_uuid`) or else by the provider's own id
    for it (`external_id`, the `SendResult`'s), and one of PROVIDER_STATUSES. For `failed`, `detail` is the
    provider's reason (its code and text), kept as the message's `error_detail`."""

    msg_uuid: uuid.UUID | None
    status: str
    external_id: str | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        if self.msg_uuid is None and not self.external_id:
            raise ValueError("a delivery report names its message by msg_uuid or external_id")
        if self.status not in PROVIDER_STATUSES:
            raise ValueError(f"unknown reported status {self.status!r}")


@dataclass(frozen=True)
class IncomingMessage:
    """A message a contact sent, as a gateway's callback gives it: the sender's URN (normalised, in the channel's
    country for `tel`), the text, when the provider received it (None: now) and the provider's id for it, if any
    (a retried callback with the same id stores one message)."""

    urn: str
    text: str
    received_on: datetime | None = None
    external_id: str | None = None
    # `content-type:url`, as outgoing attachments are stored.
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True)
class StopSignal:
    """A provider's word that the contact at `urn` opted out (RapidPro's `stop_contact` channel event)."""

    urn: str


@dataclass(frozen=True)
class StartSignal:
    """A provider's word that the contact at `urn` wants messages again (Telegram's `/start`, a bot unblocked): a
    stopped contact becomes active, as with a start word."""

    urn: str


# The longest incoming text Herald stores: the longest a message it sends may be once rendered (goflow's
# MaxTemplateChars, herald.msgs.models.Msg.MAX_RENDERED_TEXT_LEN).
MAX_INCOMING_TEXT = 10_000
# The longest provider message id kept (the message's external_id column).
MAX_EXTERNAL_ID = 255


@dataclass(frozen=True)
class Challenge:
    """A provider checking the callback URL before it uses it (WhatsApp's `hub.challenge`): answered 200 with
    `text` as the body, nothing else done. `content_type` is plain text unless the type answers a page (the
    e-mail unsubscribe link's confirmation)."""

    text: str
    content_type: str = "text/plain"


# What a channel type reads out of one callback request: one event, or several (a WhatsApp webhook batches
# statuses and messages; a Twilio report of error 21610 is a failure and a stop), applied in order.
CallbackEvent = DeliveryReport | IncomingMessage | StopSignal | StartSignal | Challenge
CallbackEvents = CallbackEvent | Sequence[CallbackEvent]


class SendError(Exception):
    """A message not handed over; `detail` says why in words a channel owner can act on."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class TransientSendError(SendError):
    """Retrying later could help. `retry_after` (seconds) is the provider's own word on when (a 429's
    `Retry-After`): the next attempt waits at least that long, whatever the back-off says."""

    def __init__(self, detail: str, retry_after: float | None = None):
        super().__init__(detail)
        self.retry_after = retry_after


class GatewayUnreachable(TransientSendError):
    """No answer at all: a timeout, a refused or dropped connection. Unlike an error answer (a 5xx), a run of these
    means the gateway is down or hanging, which pauses the channel (the circuit breaker in `herald.msgs.delivery`)."""


class PermanentSendError(SendError):
    pass


class RecipientStopped(PermanentSendError):
    """The provider refused the message because the contact opted out or blocked the sender (Twilio's 21610,
    Telegram's "bot was blocked by the user"): the message fails with reason `contact` and the contact is stopped,
    as a provider's stop signal would (`herald.msgs.status`)."""


class ChannelConfigError(ValueError):
    """A channel's settings can't work; the message names the setting and what is expected. `field` is that
    setting's name, given where the error is raised: a channel field ("name", "address", "schemes", "country",
    "tps") or a config key ("send_url"), so a form shows the message beside it; None when no one setting is at
    fault (a provider refusing a pair of credentials, or not answering)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


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
    # The line printed above a new channel's callback URLs: where they go.
    callback_help: str = "Callback URLs to paste into the provider's console:"
    # Config keys a channel must have, and the defaults of optional ones (`base_url`: the provider's real API).
    # Every value is a one-line string; `base_url` an http(s) URL, kept without its trailing slash.
    required_config: tuple[str, ...] = ()
    config_defaults: dict[str, str] = {}
    # A new channel's messages per second when `--tps` isn't given: the provider's documented default, or None.
    default_tps: int | None = None
    # A report naming a message this channel never sent: refused (400, the external channel's answer, so a
    # misconfigured gateway shows up), or accepted and ignored (200: providers retry, or disable, a webhook whose
    # callbacks fail; the callback's log says it was ignored).
    ignores_unknown_reports: bool = False

    def read_report(self, request: HttpRequest, action: str) -> DeliveryReport:
        """What a callback request to `action` reports; raises `CallbackRejected` for one that can't be read."""
        raise NotImplementedError(f"channel type {self.code!r} takes no delivery reports")

    def read_callback(self, request: HttpRequest, channel: Channel, action: str) -> CallbackEvents:
        """What a callback request to `action` says: delivery reports, incoming messages, stop signals, or a URL
        check. Raises `CallbackRejected` for one that can't be read or whose signature is wrong (403). The base
        knows delivery reports only."""
        return self.read_report(request, action)

    def callback_answer(self, request: HttpRequest, action: str, data: list[dict[str, Any]]) -> HttpResponse | None:
        """The answer to an accepted callback, if the provider expects its own (Twilio: TwiML); None: Herald's
        JSON (courier's shape), `data` being one item per event."""
        return None

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """Check a channel's config and return it normalised (defaults filled in).

        Raises `ChannelConfigError` naming the first unknown, missing or invalid key. Types with `required_config`
        and `config_defaults` get their checks here; the base alone accepts only an empty config.
        """
        config = dict(config or {})
        unknown = sorted(set(config) - set(self.config_keys))
        if unknown:
            known = ", ".join(sorted(self.config_keys)) or "none"
            raise ChannelConfigError(
                f"unknown config key {unknown[0]!r} for channel type {self.code!r} (known keys: {known})"
            )
        if not (self.required_config or self.config_defaults):
            return config
        for key in self.required_config:
            if not str(config.get(key) or "").strip():
                raise ChannelConfigError(
                    f"{key} is required for channel type {self.code!r}: {self.config_keys[key]}", field=key
                )
        checked = {**self.config_defaults, **config}
        for key, value in checked.items():
            if not isinstance(value, str) or "\n" in value or "\r" in value:
                raise ChannelConfigError(f"{key} must be a one-line string", field=key)
            checked[key] = value.strip()
        if "base_url" in checked:
            checked["base_url"] = checked_base_url(checked["base_url"])
        return checked

    def callback_url(self, channel: Channel, action: str) -> str:
        """The URL of one of the channel's callbacks, with its secret: absolute when HERALD_BASE_URL is set, else a
        path to put the address gateways reach Herald at in front of."""
        kwargs = {"channel_uuid": str(channel.uuid), "secret": channel.callback_secret, "action": action}
        return str(settings.BASE_URL) + reverse(self.callback_url_name, kwargs=kwargs)

    def public_callback_url(self, channel: Channel, action: str) -> str | None:
        """`callback_url` if it is absolute, else None: what a provider that takes a callback URL with each message
        needs (none can call a path back)."""
        return self.callback_url(channel, action) if settings.BASE_URL else None

    def config_for_send(self, channel: Channel) -> dict[str, Any]:
        """The channel's config checked again at send (it may have been edited by hand since `channel add`), once
        per distinct config rather than once per message; a broken one fails the message (`PermanentSendError`)."""
        try:
            return _validated(self, json.dumps(channel.config, sort_keys=True))
        except ChannelConfigError as exc:
            raise PermanentSendError(f"channel config: {exc}") from exc

    def verify_credentials(self, config: dict[str, Any], address: str) -> None:
        """Ask the provider whether a new channel's (validated) credentials work, before it is created; raise
        `ChannelConfigError` with the provider's own words if not. The base asks nothing."""

    def activate(self, channel: Channel, callback_urls: dict[str, str]) -> str:
        """Tell the provider where to call back, for types that register it by API (Telegram's setWebhook), once
        the channel exists; returns a line saying what was done ("" for nothing). Raises `ChannelConfigError`."""
        return ""

    def fetch_templates(self, channel: Channel) -> list[ProviderTemplate]:
        """The message templates the provider holds for this channel, every status (`herald channel
        sync-templates`, herald/channels/templates.py); raise `ChannelConfigError` with the provider's words when it
        can't be asked. The base has none."""
        raise ChannelConfigError(f"channels of type {self.code!r} have no message templates")

    def send(self, channel: Channel, msg: OutgoingMsg) -> SendResult:
        """Hand `msg` (with `channel`, `contact_urn`, `text`, `attachments`, `quick_replies`, `uuid` loaded) over."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<ChannelType {self.code}>"


@functools.lru_cache(maxsize=256)
def _validated(kind: ChannelType, config_json: str) -> dict[str, Any]:
    return kind.validate_config(json.loads(config_json))


def checked_base_url(url: str) -> str:
    """A provider API's base URL, checked (http or https, a host) and kept without its trailing slash."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ChannelConfigError(
            f"base_url must be an http:// or https:// URL without a query, got {url!r}", field="base_url"
        )
    return url.rstrip("/")


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


def text_with_replies(msg: OutgoingMsg, *, with_attachments: bool = False) -> str:
    """The text for a provider without buttons: quick replies appended one a line (and, `with_attachments`,
    attachment URLs for one without media), as courier appends them."""
    parts = [msg.text or ""]
    if with_attachments:
        parts += attachment_urls(msg)
    parts += quick_reply_texts(msg)
    return "\n".join(part for part in parts if part)
