"""Output formats shared by every read serializer (`{uuid, name}` is `serializer_fields.ObjectRefSerializer`)."""

from datetime import UTC, datetime


def format_datetime(value: datetime | None) -> str | None:
    """ISO-8601 in UTC, always with six fractional digits and a Z: 2024-05-01T10:00:00.123456Z."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
