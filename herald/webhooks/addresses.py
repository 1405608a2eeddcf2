"""Which webhook URLs Herald will POST to: http(s), at most MAX_URL_LENGTH characters, and (unless the operator
allows private addresses, setting WEBHOOKS_ALLOW_PRIVATE) a host whose every address is a public one, so that a
subscription can't make Herald reach its own machine or network. The check is made when a subscription is created
and again at each delivery, on the addresses the request then goes to (`pin`): a name that resolved to a public
address yesterday and to 127.0.0.1 today (DNS rebinding) is refused too.
"""

import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from .models import MAX_URL_LENGTH

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedURL(ValueError):
    """A URL Herald won't post to; the message says why, fit for a 400 or an attempt's error."""


class Unresolvable(RefusedURL):
    """Its host has no address now: maybe for a moment (a delivery is retried), maybe for good."""


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    # `is_global` is false for loopback, private, link-local, shared (100.64/10), reserved and documentation ranges.
    return address.is_global and not address.is_multicast


def check_url(url: str) -> None:
    """Raise RefusedURL unless `url` is one a subscription may have (resolving its host if it is a name)."""
    pin(url)


@dataclass(frozen=True)
class Pinned:
    """A URL with its host replaced by the checked address it resolved to, and what the request must still say
    of the original host (the Host header, and for https the name the certificate is checked against)."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


def pin(url: str) -> Pinned:
    """Check `url` and resolve it to the address the request will use; RefusedURL if it may not be used."""
    if len(url) > MAX_URL_LENGTH:
        raise RefusedURL(f"Ensure this field has no more than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedURL("Enter a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedURL("Must be an http:// or https:// URL.")
    host = parts.hostname
    address = _resolve(host, port or (443 if parts.scheme == "https" else 80))
    if not settings.WEBHOOKS_ALLOW_PRIVATE and not is_public(address):
        raise _refused(host, address)
    if _literal(host) is not None:
        return Pinned(url)
    shown = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{shown}:{port}" if port else shown
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    host_header = f"{host}:{port}" if port else host
    return Pinned(urlunsplit(parts._replace(netloc=netloc)), {"Host": host_header}, extensions)


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _resolve(host: str, port: int) -> Address:
    """The address a request to `host` goes to; with several, each must pass (the first is used)."""
    literal = _literal(host)
    if literal is not None:
        return literal
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Unresolvable(f"Host {host} could not be resolved.") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not settings.WEBHOOKS_ALLOW_PRIVATE:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise _refused(host, refused[0])
    return addresses[0]


def _refused(host: str, address: Address) -> RefusedURL:
    if _literal(host) is not None:
        return RefusedURL(f"Refused address: {host} is not a public address.")
    return RefusedURL(f"Refused address: {host} is {address}, which is not a public address.")
