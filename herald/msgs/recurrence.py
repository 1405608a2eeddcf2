"""When a repeating broadcast's occurrences fall: an RFC 5545 RRULE read in the local time of an IANA timezone.

The rule is python-dateutil's (`rrulestr`), evaluated on the wall clock of the schedule's timezone: a daily 09:00
stays 09:00 across daylight-saving changes. Each local time becomes an instant as `zoneinfo` reads it (`fold=0`):

- a local time that doesn't exist (the hour skipped in spring) keeps the offset from before the change, so it falls
  that much later on the wall clock: 02:30 on the night Paris goes from 02:00 to 03:00 fires at 03:30;
- a local time that happens twice (the hour repeated in autumn) is the first of the two, and fires once.

Two local times that become one instant (an hourly rule in the skipped hour) are one occurrence.

Iterating a rule can be long when it rarely or never matches (`FREQ=DAILY;BYMONTHDAY=30;BYMONTH=2` looks at every
day until year 9999), so every walk is bounded: it stops at `HORIZON` after where it starts, and COUNT is applied
here rather than by dateutil (which can't take it together with that bound).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice, pairwise
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import rrule, rrulestr

# The words `schedule.repeat` takes besides an RRULE, as RapidPro's scheduler offers them (`Schedule.REPEAT_CHOICES`,
# temba/schedules/models.py); each repeats at the time of day (and weekday, day of month, date) of the first one.
REPEATS = {"daily": "FREQ=DAILY", "weekly": "FREQ=WEEKLY", "monthly": "FREQ=MONTHLY", "yearly": "FREQ=YEARLY"}
# How far ahead an occurrence is looked for: a rule with none in that long never fires (or has ended). Nine years
# covers a 29 February across a century year that isn't a leap year.
HORIZON = timedelta(days=9 * 366)
# Occurrences closer than this are refused: repeats are for messages to people, not a clock.
MIN_INTERVAL = timedelta(seconds=60)
# How many occurrences are compared for MIN_INTERVAL: enough to see a rule's pattern repeat.
INTERVAL_SAMPLE = 500
# One RRULE line: `FREQ=...;...`, optionally `RRULE:` in front; no DTSTART, EXDATE or further lines.
RULE_TEXT = re.compile(r"(?:RRULE:)?([A-Z]+=[A-Z0-9,+\-]+(?:;[A-Z]+=[A-Z0-9,+\-]+)*);?", re.IGNORECASE)
MAX_RULE_LENGTH = 500


class RecurrenceError(ValueError):
    """A schedule that can't be: `field` is the schedule's key at fault (repeat, timezone, until)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def timezone_named(name: str) -> ZoneInfo:
    """The IANA timezone `name`; RecurrenceError for any other name."""
    if not isinstance(name, str) or name not in available_zone_names():
        raise RecurrenceError("timezone", f"Unknown timezone: {name!s:.64} (an IANA name, e.g. Europe/Paris).")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RecurrenceError("timezone", f"Unknown timezone: {name} (an IANA name, e.g. Europe/Paris).") from None


_ZONE_NAMES: set[str] = set()


def available_zone_names() -> set[str]:
    if not _ZONE_NAMES:
        _ZONE_NAMES.update(available_timezones())
    return _ZONE_NAMES


def rule_of(repeat: str) -> str:
    """The RRULE (without `RRULE:`) that `repeat` means: one of REPEATS, or an RRULE as given, upper-cased."""
    if not isinstance(repeat, str) or not repeat.strip():
        raise RecurrenceError("repeat", "Must be daily, weekly, monthly, yearly or an RFC 5545 RRULE.")
    word = repeat.strip().lower()
    if word in REPEATS:
        return REPEATS[word]
    if "=" not in word:
        raise RecurrenceError(
            "repeat", f"Unknown repeat: {repeat:.40}. Must be daily, weekly, monthly, yearly or an RFC 5545 RRULE."
        )
    match = RULE_TEXT.fullmatch(repeat.strip())
    if len(repeat) > MAX_RULE_LENGTH or match is None:
        raise RecurrenceError(
            "repeat", "Not an RRULE: must be one line of NAME=VALUE parts, e.g. FREQ=WEEKLY;BYDAY=MO."
        )
    return match.group(1).upper()


def whole_second(moment: datetime) -> datetime:
    """`moment`, or the next whole second if it has a fraction: a rule's times are whole seconds (dateutil drops a
    start's microseconds), and the first occurrence must not come before the time asked for."""
    return moment if not moment.microsecond else moment.replace(microsecond=0) + timedelta(seconds=1)


def instant_of(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant (UTC) of a wall-clock time in `zone`, as the module docstring says (`fold=0`)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


@dataclass(frozen=True)
class Recurrence:
    """A rule (`rule_of`), the timezone its local times are read in, its start (an instant: the rule's DTSTART, whose
    local time gives the rule its time of day, weekday and day of month) and the instant after which nothing fires
    (`until`, or none)."""

    rule: str
    timezone: str
    start: datetime
    until: datetime | None = None

    @classmethod
    def checked(cls, rule: str, timezone: str, start: datetime, until: datetime | None = None) -> "Recurrence":
        """The recurrence, once it is known to fire, at most once a minute; else RecurrenceError saying why."""
        recurrence = cls(rule, timezone_named(timezone).key, whole_second(start), until)
        if until is not None and until < start:
            raise RecurrenceError("until", "Must not be before the first occurrence (send_at, or now).")
        recurrence._parsed()  # a rule dateutil can't read is refused before anything else
        try:
            sample = list(islice(recurrence.occurrences(), INTERVAL_SAMPLE))
        except (ValueError, OverflowError) as error:  # values dateutil takes, then can't make a time of
            raise RecurrenceError("repeat", f"Not a valid RRULE: {error}.") from None
        if not sample:
            raise RecurrenceError("repeat", "Never fires: the rule has no occurrence in the 9 years from its start.")
        for earlier, later in pairwise(sample):
            if later - earlier < MIN_INTERVAL:
                gap = (later - earlier).total_seconds()
                raise RecurrenceError(
                    "repeat", f"Fires more than once a minute (two occurrences {gap:g} s apart): at most once a minute."
                )
        return recurrence

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        """`moment` as a wall-clock time in the timezone (naive)."""
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def instant(self, local: datetime) -> datetime:
        return instant_of(local, self.zone)

    def occurrences(self, after: datetime | None = None) -> Iterator[datetime]:
        """The occurrences (UTC instants, ascending, each once) from the start, or strictly after `after`, up to
        `until` and at most HORIZON after where the walk starts."""
        rule, count = self._parsed()
        begin = self.start if after is None else max(after, self.start)
        end = begin + HORIZON if self.until is None else min(begin + HORIZON, self.until)
        # A wall-clock bound a few hours wide of the instant: a DST change moves instants around it; the instants
        # are compared exactly below.
        bound = self.local(end) + timedelta(hours=3)
        if rule._until is not None:
            bound = min(bound, rule._until.replace(tzinfo=None))
        if rule._dtstart.tzinfo is not None:  # a rule with UNTIL in UTC is walked in aware local times
            bound = bound.replace(tzinfo=self.zone)
        walk: Iterator[datetime] = iter(rule.replace(count=None, until=bound))
        if count is not None:
            walk = islice(walk, count)
        last = None
        for local in walk:
            moment = self.instant(local.replace(tzinfo=None))
            if moment > end:
                return
            if moment < self.start or (after is not None and moment <= after) or (last is not None and moment <= last):
                continue
            last = moment
            yield moment

    def next_after(self, moment: datetime) -> datetime | None:
        """The first occurrence strictly after `moment`, or None when there is none (the schedule has ended)."""
        return next(self.occurrences(after=moment), None)

    def _parsed(self) -> tuple[rrule, int | None]:
        """dateutil's rule, on the local start, and its COUNT (applied by `occurrences`)."""
        local_start = self.local(self.start)
        try:
            try:
                parsed = rrulestr(self.rule, dtstart=local_start)
            except ValueError as error:
                if "UTC" not in str(error):
                    raise
                # UNTIL given in UTC (`...Z`), as RFC 5545 asks when DTSTART has a timezone: read it that way.
                parsed = rrulestr(self.rule, dtstart=local_start.replace(tzinfo=self.zone))
        except (ValueError, TypeError, KeyError, OverflowError) as error:
            raise RecurrenceError("repeat", f"Not a valid RRULE: {error}.") from None
        if not isinstance(parsed, rrule):
            raise RecurrenceError("repeat", "Not a valid RRULE: one rule, no DTSTART, RDATE or EXDATE.")
        # Values dateutil takes and then loops on forever: refused here.
        count = cast(int | None, parsed._count)
        if parsed._interval < 1:
            raise RecurrenceError("repeat", "Not a valid RRULE: INTERVAL must be 1 or more.")
        if count is not None and count < 0:
            raise RecurrenceError("repeat", "Not a valid RRULE: COUNT must not be negative.")
        return parsed, count
