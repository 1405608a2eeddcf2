"""A send window: the days of the week and the local time of day when messages may be handed to a channel, in an
IANA zone (issue 11, "quiet hours", named for what it allows). Everything about one lives here: reading and checking
it (API body, CLI, stored JSON), whether it is open at an instant, and when it next opens.

Its JSON form: `{"days": ["mon", "tue", ...], "start": "08:00", "end": "20:00", "timezone": "Africa/Kigali"}`.
Times are `HH:MM` or `HH:MM:SS` on a 24-hour clock; `end` may be `24:00` (the end of the day). An `end` before
`start` spans midnight: the window opens on each listed day at `start` and closes at `end` the next day.

Local time is read through `zoneinfo`, day by day: on each listed day the window opens at the first instant whose
local time is `start` or later (in a spring-forward gap, the instant the clocks jump) and closes at the first
instant whose local time is `end` or later, so a window is an hour shorter or longer on the days the clocks change,
and a local hour that happens twice (autumn) does not open it twice.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .zones import known_zone

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # in datetime.weekday() order
FIELDS = ("days", "start", "end", "timezone")
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?")
END_OF_DAY = "24:00"
END_OF_DAY_SPELLINGS = (END_OF_DAY, END_OF_DAY + ":00")
# How far ahead an opening is looked for: a week, plus the day before for a window that spans midnight.
_DAYS_AHEAD = range(-1, 8)


class SendWindowError(ValueError):
    """A send window that can't be used; `field` is the part that is wrong ("" for the value as a whole)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class SendWindow:
    days: frozenset[int]  # datetime.weekday() numbers: Monday is 0
    start: time
    end: time | None  # None: 24:00, the end of the day
    timezone: str

    @classmethod
    def from_json(cls, value: object, default_timezone: str | None) -> "SendWindow":
        """Check a window as a client wrote it; a missing or null `timezone` is `default_timezone`'s (if that is
        None too, the window keeps no zone of its own: `from_stored` is then given the workspace's)."""
        if not isinstance(value, dict):
            raise SendWindowError("", 'Must be an object such as {"days": ["mon"], "start": "08:00", "end": "20:00"}.')
        unknown = sorted(str(key) for key in value if key not in FIELDS)
        if unknown:
            raise SendWindowError(unknown[0], f"Unknown field: a send window has only {', '.join(FIELDS)}.")
        for required in ("days", "start", "end"):
            if required not in value:
                raise SendWindowError(required, "This field is required.")
        days = _parse_days(value["days"])
        start = _parse_time("start", value["start"])
        end = None if value["end"] in END_OF_DAY_SPELLINGS else _parse_time("end", value["end"])
        if start == end:
            raise SendWindowError(
                "end", f"Must differ from start: a window from {_format(start)} to {_format(end)} never opens."
            )
        zone = value.get("timezone")
        if zone is None:
            zone = default_timezone
        elif not isinstance(zone, str) or known_zone(zone) is None:
            raise SendWindowError(
                "timezone", f"Unknown timezone {zone!r}: use an IANA zone name such as Africa/Kigali or UTC."
            )
        else:
            zone = known_zone(zone)
        return cls(days, start, end, zone or "")

    @classmethod
    def from_stored(cls, value: dict[str, object], default_timezone: str = "UTC") -> "SendWindow":
        """A window as `as_json` stored it (checked when it was written); no zone of its own: `default_timezone`."""
        return cls.from_json(value, default_timezone)

    def as_json(self) -> dict[str, object]:
        return {
            "days": [name for number, name in enumerate(DAY_NAMES) if number in self.days],
            "start": _format(self.start),
            "end": _format(self.end),
            "timezone": self.timezone or None,
        }

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or "UTC")

    def is_open(self, at: datetime) -> bool:
        # Open since yesterday (a window that spans midnight) or since earlier today.
        local_day = at.astimezone(self.zone).date()
        intervals = (self._interval(local_day + timedelta(offset)) for offset in (-1, 0))
        return any(opens is not None and opens <= at < closes for opens, closes in intervals)

    def next_opening(self, at: datetime) -> datetime | None:
        """When the window next opens after `at` (UTC); None if it is open at `at`."""
        if self.is_open(at):
            return None
        local_day = at.astimezone(self.zone).date()
        for offset in _DAYS_AHEAD:
            opens, _ = self._interval(local_day + timedelta(offset))
            if opens and opens > at:
                return opens
        raise AssertionError("a window with days opens within a week")  # from_json refuses one without

    def _interval(self, day: date) -> tuple[datetime | None, datetime]:
        """The instants the window opens and closes on local `day` (opens None: not one of its days)."""
        if day.weekday() not in self.days:
            return None, datetime.min.replace(tzinfo=UTC)
        opens = _first_instant(datetime.combine(day, self.start), self.zone)
        end = self.end or time(0)
        end_day = day if self.end is not None and self.end > self.start else day + timedelta(1)
        return opens, _first_instant(datetime.combine(end_day, end), self.zone)


def _first_instant(local: datetime, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) whose local time in `zone` is `local` or later. `local` fold 0 is its first
    occurrence; a local time the clocks skip has none, and the instant the clocks jump is the answer."""
    instant = local.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local:
        return instant
    # In a gap: the two folds give the instants just before and just after the jump; halve down to the second.
    low, high = sorted(int(local.replace(tzinfo=zone, fold=fold).timestamp()) for fold in (0, 1))
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= local:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _parse_days(value: object) -> frozenset[int]:
    if not isinstance(value, list) or not value:
        raise SendWindowError("days", f"Must be a non-empty list of day names: {', '.join(DAY_NAMES)}.")
    days = set()
    for name in value:
        if not isinstance(name, str) or name.strip().lower() not in DAY_NAMES:
            raise SendWindowError("days", f"Unknown day {name!r}: use {', '.join(DAY_NAMES)}.")
        days.add(DAY_NAMES.index(name.strip().lower()))
    return frozenset(days)


def _parse_time(field: str, value: object) -> time:
    """`HH:MM[:SS]`."""
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        allowed = f" (or {END_OF_DAY}, the end of the day)" if field == "end" else ""
        raise SendWindowError(field, f"Must be a time of day as HH:MM or HH:MM:SS, 24-hour, e.g. 08:00{allowed}.")
    hour, minute, second = match.groups()
    return time(int(hour), int(minute), int(second or 0))


def _format(value: time | None) -> str:
    if value is None:
        return END_OF_DAY
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def parse_compact(text: str, default_timezone: str | None) -> SendWindow | None:
    """The command line's form: `DAYS START-END [TIMEZONE]`, DAYS a comma-separated list of day names or ranges
    (`mon-fri`, `sat,sun`, `fri-mon`), e.g. `mon-fri 08:00-20:00 Africa/Kigali`; `none` (or empty) for no window."""
    words = text.split()
    if not words or (len(words) == 1 and words[0].lower() == "none"):
        return None
    if len(words) not in (2, 3) or words[1].count("-") != 1:
        raise SendWindowError("", f"Write DAYS START-END [TIMEZONE], e.g. mon-fri 08:00-20:00, or none; not {text!r}.")
    start, end = words[1].split("-")
    value = {"days": _expand_days(words[0]), "start": start, "end": end}
    if len(words) == 3:
        value["timezone"] = words[2]
    return SendWindow.from_json(value, default_timezone)


def _expand_days(spec: str) -> list[str]:
    days: list[str] = []
    for part in spec.lower().split(","):
        first, _, last = part.partition("-")
        if not last:
            days.append(first)
            continue
        for name in (first, last):
            if name not in DAY_NAMES:
                raise SendWindowError("days", f"Unknown day {name!r}: use {', '.join(DAY_NAMES)}.")
        count = (DAY_NAMES.index(last) - DAY_NAMES.index(first)) % 7 + 1
        days += [DAY_NAMES[(DAY_NAMES.index(first) + i) % 7] for i in range(count)]
    return days
