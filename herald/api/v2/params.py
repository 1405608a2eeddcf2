"""Query-string parameters: parsing with RapidPro's 400 messages (`{"detail": ...}`, `temba/api/views.py`).

An unparseable date is a 400 here where RapidPro lists nothing (docs/COMPATIBILITY.md, C2).
"""

import uuid
from datetime import UTC, datetime

from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import status
from rest_framework.exceptions import APIException

MAX_UUID_VALUES = 100


class InvalidParam(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"


def uuid_param(request, name: str = "uuid") -> uuid.UUID | None:
    values = request.query_params.getlist(name)
    if len(values) > MAX_UUID_VALUES:
        raise InvalidParam(f"Param '{name}' can have a maximum of {MAX_UUID_VALUES} values.")
    if not values or values[0] == "":
        return None
    return parse_uuid(values[0], name)


def parse_uuid(value: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise InvalidParam(f"Param '{name}': {value} is not a valid UUID.") from None


def text_param(request, name: str) -> str | None:
    return request.query_params.get(name) or None


def int_param(request, name: str = "id") -> int | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise InvalidParam(f"Value for {name} must be an integer") from None
    if not -(2**63) <= number < 2**63:
        raise InvalidParam(f"Value for {name} must be an integer")
    return number or None


def datetime_param(request, name: str) -> datetime | None:
    value = request.query_params.get(name)
    if not value:
        return None
    parsed = None
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            parsed = datetime(day.year, day.month, day.day) if day else None
    except ValueError:
        parsed = None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        # As UTC: PostgreSQL refuses offsets beyond ±15:59 that Python reads (+23:55); the instant is what counts.
        parsed = parsed.astimezone(UTC) if parsed else None
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        parsed = None
    if parsed is None:
        raise InvalidParam(f"Param '{name}': {value} is not a valid ISO-8601 datetime, e.g. 2024-01-31T18:00:00.000Z.")
    return parsed


def exclusive_params(request, names: list[str]) -> None:
    given = [n for n in names if request.query_params.get(n)]
    if len(given) > 1:
        raise InvalidParam(f"You may only specify one of the {', '.join(names)} parameters")


def bool_param(request, name: str) -> bool:
    # Never None: an absent flag is False, and a filter on it always applies (e.g. contacts' `deleted`).
    return str(request.query_params.get(name, "")).lower() in ("true", "1", "yes")


def reject_nul_params(request) -> None:
    """A NUL character is in no value a filter can match, and PostgreSQL refuses it in a query: a clear 400."""
    for name, values in request.query_params.lists():
        if any("\x00" in value for value in values):
            raise InvalidParam(f"Param '{name}' must not contain NUL characters.")
