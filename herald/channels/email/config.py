"""An `email` channel's configuration: the SMTP server it hands messages to, and its checks.

| key | meaning |
| --- | --- |
| `host` (required) | the SMTP server's host name |
| `port` | its port: `587` (default, STARTTLS), `465` for implicit TLS, `25` |
| `username`, `password` | the login, both or neither (no login: the server relays without one) |
| `tls` | `starttls` (default), `ssl` (implicit TLS) or `none`, which only a loopback host may use |

The sender address is the channel's `--address` (checked by `checked_address`, at `channel add`).
"""

import ipaddress
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from herald.channels.base import ChannelConfigError

KEYS = {
    "host": "the SMTP server's host name",
    "port": "the SMTP server's port (587 for STARTTLS, 465 for implicit TLS)",
    "username": "the SMTP login (with password)",
    "password": "the SMTP password (with username)",
    "tls": "starttls (default), ssl (implicit TLS) or none (a loopback host only)",
}
REQUIRED = ("host",)
DEFAULTS = {"port": "587", "tls": "starttls"}
TLS_MODES = ("starttls", "ssl", "none")


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """The base's checks passed (known keys, one-line strings, defaults): the values themselves."""
    host = config["host"]
    if any(char in host for char in "/:@ ") and not _is_ip(host):
        raise ChannelConfigError(
            f"host must be a host name or an IP address, without a port or scheme, got {host!r}", field="host"
        )
    port = config["port"]
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ChannelConfigError(f"port must be a whole number from 1 to 65535, got {port!r}", field="port")
    tls = config["tls"].lower()
    if tls not in TLS_MODES:
        raise ChannelConfigError(f"tls must be one of {', '.join(TLS_MODES)}, got {config['tls']!r}", field="tls")
    # Without TLS the password and every message cross the network readable: only a relay on this machine may.
    if tls == "none" and not is_loopback(host):
        raise ChannelConfigError(
            f"tls=none is only allowed for a loopback host (127.0.0.1, ::1, localhost), not {host!r}", field="tls"
        )
    if bool(config.get("username")) != bool(config.get("password")):
        raise ChannelConfigError(
            "username and password go together: give both, or neither for a server without login",
            field="password" if config.get("username") else "username",  # the one missing
        )
    return {**config, "port": str(int(port)), "tls": tls}


def checked_address(address: str) -> str:
    """The channel's `--address`, the messages' sender: a valid e-mail address."""
    try:
        validate_email(address)
    except ValidationError:
        raise ChannelConfigError(
            f"an email channel's --address is its sender and must be an e-mail address, got {address!r}",
            field="address",
        ) from None
    return address


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
