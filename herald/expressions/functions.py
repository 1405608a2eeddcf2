"""Built-in functions of the expression language (names are case-insensitive).

Eager functions receive evaluated argument values. Lazy ones receive the State and the argument nodes, so they can
catch an argument's error (`default`, `is_error`) or skip arguments they don't need (`if`, `and`, `or`).
"""

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import dates, values
from .errors import EvaluationError


@dataclass(frozen=True)
class Function:
    name: str
    implementation: Any
    min_arguments: int
    max_arguments: int | None  # None: any number
    lazy: bool = False


FUNCTIONS: dict[str, Function] = {}


def builtin(name: str, min_arguments: int, max_arguments: int | None = -1, lazy: bool = False):
    """Register a function; `max_arguments` defaults to `min_arguments`."""

    def register(implementation):
        maximum = min_arguments if max_arguments == -1 else max_arguments
        FUNCTIONS[name] = Function(name, implementation, min_arguments, maximum, lazy)
        return implementation

    return register


# ---- text ---------------------------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def _words(text, delimiters=None) -> list[str]:
    """Words split on whitespace and punctuation, or on any of the `delimiters` characters if given."""
    text = values.to_text(text)
    if delimiters is None:
        return _WORD.findall(text)
    separators = values.to_text(delimiters)
    if not separators:
        return [text] if text else []
    return [word for word in re.split(f"[{re.escape(separators)}]+", text) if word]


@builtin("upper", 1)
def upper(text):
    return values.to_text(text).upper()


@builtin("lower", 1)
def lower(text):
    return values.to_text(text).lower()


@builtin("title", 1)
def title(text):
    """Capitalise each word: "ryan O'NEIL" -> "Ryan O'Neil" (digits don't start a word: "1st" stays)."""
    return _WORD.sub(lambda match: match[0][0].upper() + match[0][1:], values.to_text(text).lower())


@builtin("text", 1)
def text(value):
    return values.to_text(value)


@builtin("concat", 1, None)
def concat(*parts):
    return "".join(values.to_text(part) for part in parts)


@builtin("length", 1)
def length(value):
    """Characters in text, items in a list, properties of a dict; 0 for null."""
    if value is None:
        return 0
    if isinstance(value, list | tuple):
        return len(value)
    if isinstance(value, dict) and values.DEFAULT_KEY not in value:
        return len(value)
    return len(values.to_text(value))


builtin("count", 1)(length)


@builtin("text_length", 1)
def text_length(value):
    return len(values.to_text(value))


@builtin("word", 2, 3)
def word(text, index, delimiters=None):
    """The word at a 0-based `index` (negative counts from the end)."""
    words = _words(text, delimiters)
    position = values.to_integer(index)
    if not -len(words) <= position < len(words):
        raise EvaluationError(f"index {position} is out of range for {len(words)} words")
    return words[position]


@builtin("word_count", 1, 2)
def word_count(text, delimiters=None):
    return len(_words(text, delimiters))


def _count(value) -> int:
    number = values.to_integer(value)
    if number < 0:
        raise EvaluationError("count can't be negative")
    return number


@builtin("left", 2)
def left(text, count):
    return values.to_text(text)[: _count(count)]


@builtin("right", 2)
def right(text, count):
    number = _count(count)
    return values.to_text(text)[-number:] if number else ""


@builtin("trim", 1)
def trim(text):
    return values.to_text(text).strip()


@builtin("replace", 3, 4, lazy=True)
def replace(state, text, needle, replacement, count=None):
    """Lazy only so it can check the budget before building its result (`replace` can square a text's size)."""
    text, needle = values.to_text(text.evaluate(state)), values.to_text(needle.evaluate(state))
    replacement = values.to_text(replacement.evaluate(state))
    limit = -1 if count is None else values.to_integer(count.evaluate(state))
    if needle == "":
        return text
    occurrences = text.count(needle) if limit < 0 else min(limit, text.count(needle))
    state.afford(len(text) + occurrences * (len(replacement) - len(needle)))
    return text.replace(needle, replacement, limit)


# ---- logic --------------------------------------------------------------------------------------------------------


@builtin("if", 3, lazy=True)
def if_(state, test, when_true, when_false):
    return (when_true if values.to_bool(test.evaluate(state)) else when_false).evaluate(state)


@builtin("and", 1, None, lazy=True)
def and_(state, *tests):
    return all(values.to_bool(test.evaluate(state)) for test in tests)


@builtin("or", 1, None, lazy=True)
def or_(state, *tests):
    return any(values.to_bool(test.evaluate(state)) for test in tests)


@builtin("not", 1)
def not_(value):
    return not values.to_bool(value)


@builtin("default", 2, lazy=True)
def default(state, value, fallback):
    """`value` unless it is empty or an error, else `fallback`."""
    try:
        result = value.evaluate(state)
    except EvaluationError:
        return fallback.evaluate(state)
    return fallback.evaluate(state) if values.is_empty(result) else result


@builtin("is_error", 1, lazy=True)
def is_error(state, value):
    try:
        value.evaluate(state)
    except EvaluationError:
        return True
    return False


# ---- numbers ------------------------------------------------------------------------------------------------------


def _numbers(arguments) -> list[Decimal]:
    """Numbers from the arguments; a list argument contributes its items, so `sum(fields.scores)` works."""
    numbers: list[Decimal] = []
    for argument in arguments:
        items = argument if isinstance(argument, list | tuple) else (argument,)
        numbers.extend(values.to_number(item) for item in items)
    return numbers


@builtin("abs", 1)
def abs_(number):
    return abs(values.to_number(number))


def _rounder(rounding):
    def round_number(number, places=0):
        places = values.to_integer(places)

        def quantize(value: Decimal) -> Decimal:
            exponent = Decimal(1).scaleb(-places, values.NUMBERS)
            return value.quantize(exponent, rounding, values.NUMBERS)

        return values.arithmetic(quantize, values.to_number(number))

    return round_number


builtin("round", 1, 2)(_rounder(ROUND_HALF_UP))
builtin("round_up", 1, 2)(_rounder(ROUND_CEILING))
builtin("round_down", 1, 2)(_rounder(ROUND_FLOOR))


@builtin("max", 1, None)
def max_(*arguments):
    numbers = _numbers(arguments)
    if not numbers:
        raise EvaluationError("max of nothing")
    return max(numbers)


@builtin("min", 1, None)
def min_(*arguments):
    numbers = _numbers(arguments)
    if not numbers:
        raise EvaluationError("min of nothing")
    return min(numbers)


@builtin("sum", 1, None)
def sum_(*arguments):
    total = Decimal(0)
    for number in _numbers(arguments):
        total = values.arithmetic(values.NUMBERS.add, total, number)
    return total


# ---- dates --------------------------------------------------------------------------------------------------------


@builtin("format_date", 1, 2)
def format_date(moment, layout="YYYY-MM-DD"):
    return dates.format_layout(values.to_datetime(moment), values.to_text(layout), with_time=False)


@builtin("format_datetime", 1, 3)
def format_datetime(moment, layout="YYYY-MM-DD tt:mm", timezone=None):
    """Formats in the datetime's own offset, or converted to `timezone` (an IANA name) when given."""
    moment = values.to_datetime(moment)
    if timezone is not None:
        moment = values.to_utc(moment).astimezone(_zone(values.to_text(timezone)))
    return dates.format_layout(moment, values.to_text(layout), with_time=True)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: names that are paths
        raise EvaluationError(f"unknown timezone '{name}'") from None
