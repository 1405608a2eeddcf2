"""The query-string filters of a list endpoint, declared once: each is applied by `ListAPIMixin.filter_queryset`
and described in the OpenAPI parameters (`EndpointSchema`) from the same declaration.

An endpoint lists its filters in `list_filters`, in the order they are read (which error a request with two bad
filters gets). Parsers are the ones in `params.py`: RapidPro's 400 messages.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from .params import bool_param, datetime_param, int_param, text_param, uuid_param

# The OpenAPI type of what each parser reads.
PARSED_TYPES = {
    uuid_param: OpenApiTypes.UUID,
    int_param: OpenApiTypes.INT,
    datetime_param: OpenApiTypes.DATETIME,
    bool_param: OpenApiTypes.BOOL,
    text_param: OpenApiTypes.STR,
}

# A lookup is a field lookup (`"created_on__lte"`), a function of the endpoint and the parsed value giving the
# condition, or None for a parameter the endpoint (or its pagination) reads itself, e.g. the list order.
Lookup = str | Callable[[Any, Any], Q] | None


@dataclass(frozen=True)
class Filter:
    name: str
    parse: Callable
    lookup: Lookup
    description: str
    # Where the schema should say more than the parser's type: a UUID read leniently as text, an enum.
    schema_type: Any = None
    enum: tuple | None = None

    def apply(self, view, queryset):
        if self.lookup is None:
            return queryset
        value = self.parse(view.request, self.name)
        if value is None:
            return queryset
        if isinstance(self.lookup, str):
            return queryset.filter(**{self.lookup: value})
        return queryset.filter(self.lookup(view, value))

    def parameter(self) -> OpenApiParameter:
        return OpenApiParameter(
            self.name,
            self.schema_type or PARSED_TYPES[self.parse],
            enum=list(self.enum) if self.enum else None,
            description=self.description,
        )


def created_between(noun: str) -> list[Filter]:
    """`before` / `after` on `created_on`, as most lists have them."""
    return [
        Filter("before", datetime_param, "created_on__lte", f"Only {noun} created on or before this time."),
        Filter("after", datetime_param, "created_on__gte", f"Only {noun} created on or after this time."),
    ]


def modified_between(noun: str) -> list[Filter]:
    """`before` / `after` on `modified_on`, for lists ordered by it."""
    return [
        Filter("before", datetime_param, "modified_on__lte", f"Only {noun} modified on or before this time."),
        Filter("after", datetime_param, "modified_on__gte", f"Only {noun} modified on or after this time."),
    ]


NOTHING = Q(pk__in=[])
