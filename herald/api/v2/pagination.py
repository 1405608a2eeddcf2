from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import timezone
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination


def is_utc_expressible(value: datetime) -> bool:
    """Aware, and still a date once in UTC (`0001-01-01 00:00+05:00` is not), as every stored date is."""
    if not timezone.is_aware(value):
        return False
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True


class CheckedCursorPagination(CursorPagination):
    """DRF's cursor pagination, with the cursor's position checked before it reaches a query.

    A cursor is base64 of `o=<offset>&r=<reverse>&p=<position>`, and anyone can write one. DRF checks the offset and
    the direction but hands the position to the query as it comes, where a value that is no date (or no date the
    database can hold) fails deep in the ORM. Such a cursor is DRF's own 404 "Invalid cursor", like any other it
    can't read.
    """

    def paginate_queryset(self, queryset, request, view=None):
        # decode_cursor needs the queryset to know what the position is compared with.
        self.cursor_queryset = queryset
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None and not self.is_valid_position(cursor.position):
            raise NotFound(self.invalid_cursor_message)
        return cursor

    def is_valid_position(self, position: str) -> bool:
        """True when the position is what DRF writes for a value of the ordering field (`str()` of it: for the
        dates every list is ordered by, an aware date and time) and the database can compare with that value."""
        field = self.cursor_queryset.query.resolve_ref(self.ordering[0].lstrip("-")).output_field
        try:
            value = field.to_python(position)
            if str(value) != position:
                return False
            if isinstance(value, datetime) and not is_utc_expressible(value):
                return False
            field.get_db_prep_value(value, connections[self.cursor_queryset.db])
        except (ValidationError, ValueError, TypeError, OverflowError):
            return False
        return True


class CreatedOnCursorPagination(CheckedCursorPagination):
    """Newest first, 250 a page; ties on created_on are broken by id and walked with the cursor's offset."""

    ordering = ("-created_on", "-id")
    page_size = 250
    offset_cutoff = 100000


class ModifiedOnCursorPagination(CheckedCursorPagination):
    """Most recently modified first; `?reverse=true` walks oldest first."""

    ordering = ("-modified_on", "-id")
    page_size = 250
    offset_cutoff = 100000

    def get_ordering(self, request, queryset, view):
        if str(request.query_params.get("reverse", "")).lower() in ("true", "1"):
            return ("modified_on", "id")
        return self.ordering
