"""Request body parsers that turn every body Herald can't hold into a 400 at the door, never a 500 later."""

import codecs
import io
import math
from urllib.parse import parse_qsl

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.utils import json

# API bodies nest four levels at most (`{"quick_replies": {"eng": [{"text": ...}]}}`); far deeper is an attack on
# the parser's stack, not a request.
MAX_DEPTH = 32


class StrictJSONParser(JSONParser):
    """JSON that Herald can store and echo back. Refused with a 400:

    - lone surrogates (`"\\ud800"`): they can't be encoded again when an error message echoes them back;
    - numbers too big for a float (`1e999`): Python would read them as infinity;
    - nesting deeper than MAX_DEPTH: Python's parser would run out of stack.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.load(codecs.getreader(encoding)(stream), parse_float=_finite_float)
        except RecursionError:
            raise ParseError(_too_deep()) from None
        except ValueError as exc:  # bad syntax, bad bytes for the encoding, NaN, integers over 4300 digits
            raise ParseError(f"JSON parse error - {exc}") from None
        _check(data)
        return data


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
                raise ParseError("JSON parse error - lone surrogate characters are not allowed") from None
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ParseError(_too_deep())
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)


class StrictFormParser(FormParser):
    """A urlencoded form whose text is valid in its encoding: Django's own reading would silently turn bad bytes into
    U+FFFD and store them."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            parse_qsl(
                body.decode(encoding),
                keep_blank_values=True,
                encoding=encoding,
                errors="strict",
                max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
            )
        except UnicodeDecodeError as exc:
            raise ParseError(f"Form parse error - {exc}") from None
        except ValueError:
            raise ParseError("Form parse error - too many fields") from None
        return super().parse(io.BytesIO(body), media_type, parser_context)
