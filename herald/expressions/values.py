"""Excellent's value model on plain Python data.

A context is nested dicts / lists / strings / numbers / booleans / datetimes / None. This module converts those
values the way Excellent does (to text, number, boolean, date) and looks keys up case-insensitively.
"""

import json
import math
import re
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Context, Decimal, DecimalException

from .errors import EvaluationError

# A dict holding this key renders as its value, e.g. `@contact` renders the contact's name.
DEFAULT_KEY = "__default__"

# All arithmetic runs in this context, never the thread's: 28 significant digits like Python's default, and a
# bounded exponent so `9^9^9` is an error instead of a million-digit number.
NUMBERS = Context(prec=28, Emax=1000, Emin=-1000, rounding=ROUND_HALF_UP)

_MISSING = object()
_NUMBER_TEXT = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*")


def lookup(container, key, strict: bool = True):
    """`container.key` (strict: a missing key is an error) or `container[key]` (missing gives None), as Excellent."""
    if isinstance(container, dict):
        name = key if isinstance(key, str) else to_text(key)
        value = container.get(name, _MISSING)
        if value is _MISSING:
            value = _get_ignoring_case(container, name.lower())
        if value is _MISSING:
            if strict:
                raise EvaluationError(f"no property '{name}'")
            return None
        return value
    if isinstance(container, list | tuple):
        index = to_integer(key)
        if not -len(container) <= index < len(container):
            raise EvaluationError(f"index {index} out of range for {len(container)} items")
        return container[index]
    raise EvaluationError(f"{describe(container)} has no properties")


def _get_ignoring_case(container: dict, lowered: str):
    value = container.get(lowered, _MISSING)
    if value is not _MISSING:
        return value
    # Slow path only on a miss: context keys are normally lowercase already.
    for name, value in container.items():
        if isinstance(name, str) and name.lower() == lowered:
            return value
    return _MISSING


def describe(value) -> str:
    return "null" if value is None else type(value).__name__


def to_text(value) -> str:
    """The text a value renders as in a message."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal | float):
        return _number_text(value)
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, dict):
        if DEFAULT_KEY in value:
            return to_text(value[DEFAULT_KEY])
        return json.dumps(_plain(value), ensure_ascii=False)
    if isinstance(value, list | tuple):
        return ", ".join(to_text(item) for item in value)
    return str(value)


def _number_text(number: Decimal | float) -> str:
    if isinstance(number, float):
        if not math.isfinite(number):
            raise EvaluationError(f"{number} is not a number")
        number = Decimal(repr(number))
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _datetime_text(moment: datetime) -> str:
    """ISO-8601 with microseconds, `Z` for UTC, as Excellent prints datetimes."""
    text = moment.isoformat(timespec="microseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _plain(value):
    """A JSON-able copy for rendering a dict that has no default text."""
    if isinstance(value, dict):
        return {str(name): _plain(item) for name, item in value.items() if name != DEFAULT_KEY}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | bool | int):
        return value
    return to_text(value)


def to_number(value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise EvaluationError("a boolean is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EvaluationError(f"{value} is not a number")
        return Decimal(repr(value))
    if isinstance(value, str):
        if _NUMBER_TEXT.fullmatch(value):
            return Decimal(value.strip())
        raise EvaluationError(f"'{value}' is not a number")
    if value is None:
        return Decimal(0)  # an unset field counts as 0, as in Excellent
    if isinstance(value, dict) and DEFAULT_KEY in value:
        return to_number(value[DEFAULT_KEY])
    raise EvaluationError(f"{describe(value)} is not a number")


def to_integer(value) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = to_number(value)
    if number != number.to_integral_value():
        raise EvaluationError(f"{to_text(number)} is not an integer")
    return int(number)


def to_bool(value) -> bool:
    """Excellent truthiness: "", "false", 0, null, empty lists and dicts are false."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, str):
        return value != "" and value.lower() != "false"
    if isinstance(value, int | float | Decimal):
        return value != 0
    if isinstance(value, dict):
        if DEFAULT_KEY in value:
            return to_bool(value[DEFAULT_KEY])
        return bool(value)
    if isinstance(value, list | tuple):
        return bool(value)
    return True


def is_empty(value) -> bool:
    """What `default()` replaces: null, empty text, empty lists and dicts."""
    if value is None:
        return True
    if isinstance(value, str | list | tuple):
        return len(value) == 0
    if isinstance(value, dict):
        return is_empty(value[DEFAULT_KEY]) if DEFAULT_KEY in value else not value
    return False


def to_datetime(value) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            raise EvaluationError(f"'{value}' is not a date") from None
    if isinstance(value, dict) and DEFAULT_KEY in value:
        return to_datetime(value[DEFAULT_KEY])
    raise EvaluationError(f"{describe(value)} is not a date")


def to_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def arithmetic(operation, *operands: Decimal) -> Decimal:
    """Run a `NUMBERS` operation, turning overflow, division by zero and the like into an EvaluationError."""
    try:
        return operation(*operands)
    except DecimalException as error:
        raise EvaluationError(f"arithmetic error: {type(error).__name__}") from None
