"""Which IANA zone names a workspace, a schedule or a send window may name, spelled as Herald stores them."""

import zoneinfo
from functools import cache

import pytz


@cache
def _zone_names() -> dict[str, str]:
    """The IANA zone names `zoneinfo` can load here and pytz knows, by their lower-cased spelling: the system's own
    `localtime` (whatever the server is set to) and `Factory` are no zone of a workspace."""
    return {name.lower(): name for name in zoneinfo.available_timezones() & pytz.all_timezones_set}


def known_zone(name: str) -> str | None:
    """`name` spelled as the zone database spells it (any case, spaces around ignored), or None if it is no zone."""
    return _zone_names().get(name.strip().lower())
