"""Send windows for tests, made from the current time: one that opens a few seconds from now, or one that is closed
now, in a given zone (see herald/workspaces/send_window.py)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def window_from_now(opens_in: float, lasts: float, timezone: str = "Africa/Kigali") -> tuple[dict, datetime]:
    """A window open every day from `opens_in` seconds from now (rounded up to the second) for `lasts` seconds, as
    the API takes it, and the instant it opens (UTC). It spans midnight if that falls inside it."""
    opens_at = (datetime.now(UTC) + timedelta(seconds=opens_in)).replace(microsecond=0) + timedelta(seconds=1)
    local = opens_at.astimezone(ZoneInfo(timezone))
    closes = local + timedelta(seconds=lasts)
    window = {"days": EVERY_DAY, "start": shown(local), "end": shown(closes), "timezone": timezone}
    return window, opens_at


def shown(local: datetime) -> str:
    """A time of day as Herald writes it back: seconds only when there are some."""
    return f"{local:%H:%M:%S}" if local.second else f"{local:%H:%M}"
