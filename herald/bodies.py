"""Strict reading of request bodies, shared by the API's parsers (`herald.api.v2.parsers`) and channel callbacks
(`herald.channels.callback_requests`): every body Herald can't hold is refused with a message naming the problem,
never a 500 later and never silently mangled."""

import codecs
import math
from urllib.parse import parse_qsl

from django.conf import settings
from rest_framework.utils import json

# API bodies nest four levels at most (`{"quick_replies": {"eng": [{"text": ...}]}}`); far deeper is an attack on
# the parser's stack, not a request.
MAX_DEPTH = 32


class UnreadableBody(ValueError):
    """A body refused; the message says why (the API answers it as a 400 ParseError, callbacks as a 400)."""


def read_json(stream, encoding: str):
    """JSON that Herald can store and echo back. Refused:

    - lone surrogates (`"\\ud800"`): they can't be encoded again when an error message echoes them back;
    - numbers too big for a float (`1e999`): Python would read them as infinity;
    - nesting deeper than MAX_DEPTH: Python's parser would run out of stack.
    """
    try:
        data = json.loads(codecs.getreader(encoding)(stream).read(), parse_float=_finite_float)
    except RecursionError:
        raise UnreadableBody(_too_deep()) from None
    except ValueError as exc:  # bad syntax, bad bytes for the encoding, NaN, integers over 4300 digits
        raise UnreadableBody(f"JSON parse error - {exc}") from None
    _check(data)
    return data


def check_form(body: bytes, encoding: str) -> None:
    """A urlencoded form whose text is valid in its encoding: Django's own reading would silently turn bad bytes into
    U+FFFD and store them."""
    try:
        parse_qsl(
            body.decode(encoding),
            keep_blank_values=True,
            encoding=encoding,
            errors="strict",
            max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
        )
    except UnicodeDecodeError as exc:
        raise UnreadableBody(f"Form parse error - {exc}") from None
    except ValueError:
        raise UnreadableBody("Form parse error - too many fields") from None


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"Out of range float values are not JSON compliant: {text!r}")
    return number


def _too_deep() -> str:
    return f"JSON parse error - nesting deeper than {MAX_DEPTH} levels is not allowed"


def _check(data) -> None:
    """Depth and surrogates, walked without recursion so a deep body can't exhaust the stack here either."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise UnreadableBody("JSON parse error - lone surrogate characters are not allowed") from None
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise UnreadableBody(_too_deep())
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
