"""The registry of channel types, and creating a channel with a checked configuration.

A new type is a folder `herald/channels/<code>/` whose `type.py` holds a `ChannelType` subclass, registered by one
line in `TYPE_CLASSES` below (see CONTRIBUTING.md, "Checklist: a new channel type").
"""

import enum
from typing import Any, cast

from django.db import transaction
from django.utils.module_loading import import_string

from herald.channels.base import (
    ChannelConfigError,
    ChannelType,
    PermanentSendError,
    SendError,
    SendResult,
    TransientSendError,
)
from herald.channels.models import Channel
from herald.contacts import urns
from herald.workspaces.models import Workspace
from herald.workspaces.provisioning import ProvisioningError, parse_country

# Callers need only this module: the channel API of base.py is re-exported.
__all__ = (
    "TYPES",
    "ChannelConfigError",
    "ChannelType",
    "PermanentSendError",
    "SendError",
    "SendResult",
    "TransientSendError",
    "UnknownChannelType",
    "create_channel",
    "get_type",
)

# One line per type, `herald.channels.<code>.type.<Class>`: named by path (as RapidPro's settings.CHANNEL_TYPES
# names its types) so that adding a type is this line and its folder, nothing else.
TYPE_CLASSES = (
    "herald.channels.africastalking.type.AfricasTalkingType",
    "herald.channels.console.type.ConsoleType",
    "herald.channels.email.type.EmailType",
    "herald.channels.external.type.ExternalType",
    "herald.channels.infobip.type.InfobipType",
    "herald.channels.telegram.type.TelegramType",
    "herald.channels.twilio.type.TwilioType",
    "herald.channels.vonage.type.VonageType",
    "herald.channels.whatsapp.type.WhatsAppType",
)
TYPES: dict[str, ChannelType] = {t.code: t for t in (import_string(path)() for path in TYPE_CLASSES)}

# Both are CharFields: their max_length is set.
MAX_NAME_LENGTH = cast(int, Channel._meta.get_field("name").max_length)
MAX_ADDRESS_LENGTH = cast(int, Channel._meta.get_field("address").max_length)


class UnknownChannelType(KeyError):
    def __str__(self) -> str:
        return f"unknown channel type {self.args[0]!r} (known types: {', '.join(sorted(TYPES))})"


def get_type(code: str) -> ChannelType:
    try:
        return TYPES[code]
    except KeyError:
        raise UnknownChannelType(code) from None


class _TypeDefault(enum.Enum):
    TYPE_DEFAULT = "the type's default"


# What `create_channel` takes for "no tps asked for": the type's default, where None asks for no limit.
TYPE_DEFAULT = _TypeDefault.TYPE_DEFAULT


def create_channel(
    workspace: Workspace,
    channel_type: str,
    name: str,
    *,
    address: str = "",
    schemes: list[str] | None = None,
    country: str | None = "",
    tps: int | _TypeDefault | None = TYPE_DEFAULT,
    config: dict[str, Any] | None = None,
) -> Channel:
    """Check everything, then create the channel. Raises `ChannelConfigError` with a message naming the problem.

    `tps`: messages per second; None for unlimited; left out, the type's `default_tps` (a provider's own limit).
    """
    try:
        kind = get_type(channel_type)
    except UnknownChannelType as exc:
        raise ChannelConfigError(str(exc)) from None

    name = (name or "").strip()
    if not name:
        raise ChannelConfigError("name is required", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise ChannelConfigError(f"name is longer than {MAX_NAME_LENGTH} characters", field="name")
    address = (address or "").strip()
    if len(address) > MAX_ADDRESS_LENGTH:
        raise ChannelConfigError(f"address is longer than {MAX_ADDRESS_LENGTH} characters", field="address")

    schemes = list(dict.fromkeys(s.strip().lower() for s in schemes if s.strip())) if schemes else list(kind.schemes)
    unknown = [s for s in schemes if s not in urns.SCHEMES]
    if unknown:
        known = ", ".join(sorted(urns.SCHEMES))
        raise ChannelConfigError(f"unknown URN scheme {unknown[0]!r} (known: {known})", field="schemes")

    try:
        country = parse_country(country)
    except ProvisioningError as exc:
        raise ChannelConfigError(str(exc), field="country") from None
    if tps is TYPE_DEFAULT:
        tps = kind.default_tps
    elif tps is not None and (isinstance(tps, bool) or not isinstance(tps, int) or tps < 1):
        raise ChannelConfigError("tps must be a whole number of messages per second, 1 or more", field="tps")
    config = kind.validate_config(config or {})
    kind.verify_credentials(config, address)
    with transaction.atomic():
        return Channel.objects.create(
            workspace=workspace,
            channel_type=kind.code,
            name=name,
            address=address,
            schemes=schemes,
            country=country,
            tps=tps,
            config=config,
        )
