"""Which of a contact's URNs, through which channel, a message goes out on.

A pure function over objects already loaded, so the fan-out can call it for every contact without a query.
"""

from collections.abc import Iterable
from typing import Any

from herald.channels.models import Channel
from herald.contacts.urns import country_of_tel


def choose_route(contact_urns: Iterable[Any], channels: Iterable[Channel]) -> tuple[Any, Channel] | None:
    """The `(urn, channel)` to send through, or None when no channel can reach any of the URNs. A URN is anything
    with ContactURN's `id`, `scheme`, `path`, `priority` and `channel_id` (the fan-out passes lighter tuples).

    - URNs are tried highest priority first (ties: oldest first); the first one some channel serves wins.
    - The URN's affinity channel (the one it was last reached through) is kept while active and serving the scheme.
    - `tel`: a channel whose country is the number's country, else one with no country; a channel set to another
      country never carries the number.
    - Otherwise, and among equals: the oldest channel (by `created_on`) serving the scheme.
    """
    usable = sorted((c for c in channels if c.is_active), key=lambda c: (c.created_on, c.id or 0))
    by_id = {c.id: c for c in usable}
    for urn in sorted(contact_urns, key=lambda u: (-u.priority, u.id or 0)):
        candidates = [c for c in usable if urn.scheme in c.schemes]
        if not candidates:
            continue
        affinity = by_id.get(urn.channel_id)
        if affinity is not None and affinity in candidates:
            return urn, affinity
        channel = _tel_channel(urn.path, candidates) if urn.scheme == "tel" else candidates[0]
        if channel is not None:
            return urn, channel
    return None


def _tel_channel(number: str, candidates: list[Channel]) -> Channel | None:
    # Parsing the number is the costly part; skip it when no candidate is tied to a country.
    if any(c.country for c in candidates):
        country = country_of_tel(number)
        for channel in candidates:
            if country and channel.country.upper() == country:
                return channel
    return next((c for c in candidates if not c.country), None)
