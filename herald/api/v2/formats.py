"""Output formats shared by every read serializer."""

from datetime import UTC, datetime


def format_datetime(value: datetime | None) -> str | None:
    """ISO-8601 in UTC, always with six fractional digits and a Z: 2024-05-01T10:00:00.123456Z."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ref(obj) -> dict | None:
    """The `{uuid, name}` shape used for references to contacts, groups, channels and flows."""
    if obj is None:
        return None
    return {"uuid": str(obj.uuid), "name": obj.name}
