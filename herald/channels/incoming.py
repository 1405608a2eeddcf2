"""What every channel type's incoming callbacks share: the sender's URN on the channel, and a text made storable."""

import re

from herald.channels.callback_requests import CallbackRejected
from herald.channels.models import Channel
from herald.contacts import urns

# What no database column can hold (PostgreSQL refuses NUL and lone surrogates): replaced in a text, not refused, so
# that a message with one stray byte is kept.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(text: str) -> str:
    """`text` with what no database column holds replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def sender_urn(channel: Channel, sender: str) -> str:
    """The URN `sender` is on this channel, normalised (courier: `urns.ParsePhone` in the channel's country)."""
    scheme = channel.schemes[0] if channel.schemes else "tel"
    path = sender.strip().removeprefix(f"{scheme}:")
    country = channel.country or channel.workspace.country
    try:
        if "?" in path or "#" in path:  # a path, not a URN with a query or a display
            raise urns.InvalidURN(path)
        urn = urns.parse_and_normalize(f"{scheme}:{path}", country)
    except urns.InvalidURN:
        where = f" (read in {country})" if scheme == "tel" and country else ""
        raise CallbackRejected(400, f"from: {sender[:100]!r} is not a possible {scheme} address{where}") from None
    return str(urn)
