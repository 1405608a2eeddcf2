"""What a contact field's type means for its values: how text given to the API or the importer is checked and
normalised before it is stored, and what a template sees for a stored value.

Values are stored as text in `Contact.fields` (what `contacts.json` lists), as RapidPro lists them: a number without
trailing zeros (`12.50` → `12.5`), a datetime as RFC 3339 in the workspace's timezone (`2026-01-15T10:30:00+02:00`,
`Z` for UTC, a fraction of a second only when there is one: how mailroom writes a Go time).
Templates get a number as a number and a datetime as a datetime in the workspace's timezone, so that Excellent's
expressions can compute with them and render them as RapidPro's do. No model is imported here.
"""

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from herald.expressions.errors import EvaluationError
from herald.expressions.values import to_number, to_text

TEXT, NUMBER, DATETIME = "text", "number", "datetime"
# RapidPro resolves these against its administrative boundaries; Herald has none and keeps the text as given
# (docs/COMPATIBILITY.md, C29).
STATE, DISTRICT, WARD = "state", "district", "ward"
TYPES = (TEXT, NUMBER, DATETIME, STATE, DISTRICT, WARD)

# The deprecated `value_type` names of fields.json: each type's, where RapidPro's older name differs.
DEPRECATED_NAMES = {NUMBER: "numeric"}

DATETIME_EXAMPLE = "2026-01-15, 2026-01-15T10:30:00+02:00 or 15-01-2026 10:30"

# Day first (the workspace's `date_style`): 15-01-2026, 15/01/2026 or 15.01.2026, then an optional time.
_DAY_FIRST = re.compile(
    r"(?P<day>\d{1,2})[-/.](?P<month>\d{1,2})[-/.](?P<year>\d{4})"
    r"(?:[ T](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,6})\d*)?)?)?"
)

_DAY_FIRST_PARTS = ("day", "month", "year", "hour", "minute", "second")


class InvalidFieldValue(ValueError):
    """A value that its field's type can't take; the message names the field and says what it takes."""


def describe(value_type: str) -> str:
    return {NUMBER: "a number", DATETIME: f"a date, such as {DATETIME_EXAMPLE}"}.get(value_type, "text")


def normalise(key: str, value_type: str, text: str, zone: tzinfo) -> str:
    """The text to store for `text` given to a field of `value_type`, or InvalidFieldValue."""
    try:
        if value_type == NUMBER:
            return to_text(to_number(text))
        if value_type == DATETIME:
            return stored_datetime(parse_datetime(text.strip(), zone))
    except (EvaluationError, ValueError, OverflowError):
        raise InvalidFieldValue(f"Value of '{key}' must be {describe(value_type)}.") from None
    return text


def normalise_values(values: Mapping[str, str | None], types: Mapping[str, str], zone: tzinfo) -> dict[str, str | None]:
    """Each given value normalised for its field's type; None and "" (which clear a value) are kept as they are."""
    return {key: normalise(key, types[key], value, zone) if value else value for key, value in values.items()}


def parse_datetime(text: str, zone: tzinfo) -> datetime:
    """ISO 8601 or day first (`15-01-2026 10:30`); a value without an offset is a time of the workspace's zone."""
    match = _DAY_FIRST.fullmatch(text)
    if match:
        day, month, year, hour, minute, second = (int(match[name] or 0) for name in _DAY_FIRST_PARTS)
        microsecond = int((match["fraction"] or "").ljust(6, "0"))
        moment = datetime(year, month, day, hour, minute, second, microsecond)
    else:
        moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def stored_datetime(moment: datetime) -> str:
    with_offset = moment.isoformat(timespec="seconds")
    fraction = f".{moment.microsecond:06d}".rstrip("0") if moment.microsecond else ""
    offset = "Z" if moment.utcoffset() == timedelta(0) else with_offset[19:]
    return with_offset[:19] + fraction + offset


def template_value(value_type: str, stored: str, zone: tzinfo) -> str | Decimal | datetime:
    """What `@fields.KEY` is for a stored value: a number, a datetime in `zone`, or the text itself (also for a
    value stored before its field had a type, which the checks above never let in since)."""
    try:
        if value_type == NUMBER:
            return to_number(stored)
        if value_type == DATETIME:
            return datetime.fromisoformat(stored).astimezone(zone)
    except (EvaluationError, ValueError, OverflowError):
        pass
    return stored


def template_values(stored: Mapping[str, str], types: Mapping[str, str], zone: tzinfo) -> dict[str, object]:
    """`@fields` of a contact: every field of the workspace, null where the contact has no value (as goflow's
    context has them: `@fields.age` of nobody's age is empty, not an error, and counts as 0 in arithmetic)."""
    values: dict[str, object] = dict.fromkeys(types)
    values.update((key, template_value(types.get(key, TEXT), value, zone)) for key, value in stored.items())
    return values
