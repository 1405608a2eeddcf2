"""Which of a contact's URNs, through which channel, a message goes out on.

A pure function over objects already loaded, so the fan-out can call it for every contact without a query.
"""

from collections.abc import Iterable
from typing import Any, NamedTuple

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
    return Router(channels).route(contact_urns)


class Router:
    """`choose_route` over one set of channels for many contacts (a fan-out): the channels are sorted, and those
    serving each scheme found, once rather than for every contact."""

    def __init__(self, channels: Iterable[Channel]):
        self.usable = sorted((c for c in channels if c.is_active), key=lambda c: (c.created_on, c.id or 0))
        self.by_id = {c.id: c for c in self.usable}
        self._schemes: dict[str, _SchemeRoutes] = {}

    def route(self, contact_urns: Iterable[Any]) -> tuple[Any, Channel] | None:
        for urn in sorted(contact_urns, key=lambda u: (-u.priority, u.id or 0)):
            routes = self._schemes.get(urn.scheme)
            if routes is None:
                routes = self._schemes[urn.scheme] = _SchemeRoutes.of(urn.scheme, self.usable)
            if not routes.candidates:
                continue
            affinity = self.by_id.get(urn.channel_id)
            if affinity is not None and affinity in routes.candidates:
                return urn, affinity
            # Parsing a number is the costly part; skipped when no candidate is tied to a country.
            channel = _tel_channel(country_of_tel(urn.path), routes.candidates) if routes.by_country else routes.first
            if channel is not None:
                return urn, channel
        return None


class _SchemeRoutes(NamedTuple):
    """The channels serving one scheme, oldest first, and where a URN of it goes without an affinity: `first`,
    unless the route depends on a tel number's country (`by_country`)."""

    candidates: list[Channel]
    first: Channel | None
    by_country: bool

    @classmethod
    def of(cls, scheme: str, usable: list[Channel]) -> "_SchemeRoutes":
        candidates = [c for c in usable if scheme in c.schemes]
        if scheme != "tel":
            return cls(candidates, candidates[0] if candidates else None, False)
        by_country = any(c.country for c in candidates)
        return cls(candidates, None if by_country else _tel_channel("", candidates), by_country)


def _tel_channel(country: str, candidates: list[Channel]) -> Channel | None:
    """A channel of the number's `country` ("" when unknown), else one with no country."""
    for channel in candidates:
        if country and channel.country.upper() == country:
            return channel
    return next((c for c in candidates if not c.country), None)
