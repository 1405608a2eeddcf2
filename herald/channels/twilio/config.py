"""A `twilio` channel's config keys, and the checks the base's (required keys, one-line strings, base_url) don't do."""

import re
from typing import Any

from herald.channels.base import ChannelConfigError

KEYS = {
    "base_url": "Twilio's REST API (default https://api.twilio.com): a proxy or a test server may stand in",
    "account_sid": "the account's SID (AC followed by 32 hex digits), from the Twilio console",
    "auth_token": "the account's auth token: signs Twilio's callbacks and authenticates sends",
    "messaging_service_sid": "optional Messaging Service SID (MG…): sends from the service, else from --address",
}
REQUIRED = ("account_sid", "auth_token")
DEFAULTS = {"base_url": "https://api.twilio.com"}

# Twilio's SIDs: a two-letter prefix naming the resource, then 32 hex digits.
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """`config` as the base checked it; refuses SIDs that can't be Twilio's."""
    if not _ACCOUNT_SID.match(config["account_sid"]):
        raise ChannelConfigError(
            f"account_sid must be {KEYS['account_sid']}, got {config['account_sid'][:40]!r}", field="account_sid"
        )
    service = config.get("messaging_service_sid", "")
    if service and not _SERVICE_SID.match(service):
        raise ChannelConfigError(
            f"messaging_service_sid must be MG followed by 32 hex digits, got {service[:40]!r}",
            field="messaging_service_sid",
        )
    if not service:
        config.pop("messaging_service_sid", None)
    return config


def check_sender(config: dict[str, Any], address: str) -> None:
    """Twilio needs a From or a MessagingServiceSid: a channel with neither could send nothing."""
    if not config.get("messaging_service_sid") and not (address or "").strip():
        raise ChannelConfigError(
            "a twilio channel sends from its --address (a Twilio number, e.g. +14155550100) or from "
            "messaging_service_sid: give one",
            field="address",
        )
