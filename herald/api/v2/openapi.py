"""Reusable pieces for describing endpoints in the OpenAPI schema (responses every endpoint shares)."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_array_type, build_object_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from herald.api import idempotency

from .serializer_fields import MAX_REFERENCES

DETAIL = inline_serializer(name="ErrorDetail", fields={"detail": serializers.CharField()})

BAD_REQUEST = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='Invalid input: `{"field": ["message"]}`, `{"non_field_errors": [...]}` or `{"detail": "..."}`',
)
FORBIDDEN = OpenApiResponse(DETAIL, description="No valid token, or your role may not do this")
NOT_FOUND = OpenApiResponse(DETAIL, description="No such object in your workspace")
THROTTLED = OpenApiResponse(DETAIL, description="Too many requests: wait `Retry-After` seconds")
# A body in no content type the endpoint reads, or a multipart body Django can't split into its parts.
UNSUPPORTED_BODY = OpenApiResponse(DETAIL, description="The body is in a content type this endpoint doesn't read")
LIMIT_REACHED = OpenApiResponse(DETAIL, description="Your workspace has reached its limit of these objects")

SERVER_ERROR = OpenApiResponse(DETAIL, description="A fault in Herald (logged)")
UNAVAILABLE = OpenApiResponse(DETAIL, description="Herald's task queue or Redis is unreachable: see `Retry-After`")
DISK_FULL = OpenApiResponse(DETAIL, description="Herald's disk is full: nothing was stored")

COMMON_ERRORS = {403: FORBIDDEN, 429: THROTTLED, 500: SERVER_ERROR, 503: UNAVAILABLE, 507: DISK_FULL}


def create_or_rename_responses(read_serializer, more: dict | None = None, updated: str = "Renamed") -> dict:
    """The answers of a POST that creates an object, or renames (`updated`) the one its query string names."""
    return {
        200: OpenApiResponse(read_serializer, description=updated),
        201: OpenApiResponse(read_serializer, description="Created"),
        400: BAD_REQUEST,
        404: NOT_FOUND,
        **(more or {}),
        **COMMON_ERRORS,
    }


class ReferenceListFieldSchema(OpenApiSerializerFieldExtension):
    """Reference lists (`groups`, `contacts` ...) are arrays of UUIDs or other identifying strings."""

    target_class = "herald.api.v2.serializer_fields.ReferenceListField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return build_array_type(build_object_type({"uuid": {"type": "string"}, "name": {"type": "string"}}))
        return {"type": "array", "items": {"type": "string"}, "maxItems": MAX_REFERENCES}


class ReferenceFieldSchema(OpenApiSerializerFieldExtension):
    """A single reference (`group` of contact_actions.json) is a UUID or another identifying string."""

    target_class = "herald.api.v2.serializer_fields.ReferenceField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return build_object_type({"uuid": {"type": "string"}, "name": {"type": "string"}})
        return {"type": "string"}


IDEMPOTENCY_PARAMETERS = [
    OpenApiParameter(
        idempotency.HEADER,
        # Printable ASCII; no white space at either end, which HTTP servers strip from header values.
        {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH, "pattern": "^[!-~]([ -~]*[!-~])?$"},
        OpenApiParameter.HEADER,
        description="Any unique string you choose (a UUID is a good one). Sending the same request again with the "
        "same key within 24 hours returns the first response and writes nothing again; the same key with a "
        "different request is a 422. Only successful responses are remembered.",
    ),
    OpenApiParameter(
        idempotency.REPLAYED_HEADER,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200, 201, 204],
        description="`true` when this is the stored response to an earlier request with the same Idempotency-Key.",
    ),
]
IDEMPOTENCY_ERRORS = {
    "409": f'`{{"detail": "{idempotency.IN_PROGRESS}"}}` (rare: the request holding the key could not be awaited)',
    "422": f'`{{"detail": "{idempotency.KEY_REUSED}"}}`',
}
PAGING_ERRORS = {"404": '`{"detail": "Invalid cursor"}`'}
# Any endpoint refuses a query parameter holding a NUL character (`BaseEndpoint.initial`).
QUERY_ERRORS = {"400": '`{"detail": "Param \'name\' must not contain NUL characters."}`'}


class EndpointSchema(AutoSchema):
    """What every endpoint's schema gets without saying so: its declared list filters as parameters, any may answer 400
    (a NUL in the query), paged lists 404 (a bad cursor), and writes take an `Idempotency-Key` header and may answer
    409 / 422."""

    def is_write(self) -> bool:
        return self.method == "POST" and getattr(self.view, "write_serializer_class", None) is not None

    def is_paged_list(self) -> bool:
        return self.method == "GET" and getattr(self.view, "pagination_class", None) is not None

    def get_description(self):
        # The endpoint's Markdown page, the same text its human docs page shows.
        return self.view.documentation()

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method == "GET":
            parameters = [*(f.parameter() for f in getattr(self.view, "list_filters", ())), *parameters]
        if self.is_write():
            parameters = [*parameters, *IDEMPOTENCY_PARAMETERS]
        return parameters

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if not operation:
            return operation
        # Added here, not through get_response_serializers: each endpoint's extend_schema(responses=) replaces that.
        errors = {
            **QUERY_ERRORS,
            **(IDEMPOTENCY_ERRORS if self.is_write() else {}),
            **(PAGING_ERRORS if self.is_paged_list() else {}),
        }
        detail = {"application/json": {"schema": self.resolve_serializer(DETAIL, "response").ref}}
        for code, description in errors.items():
            operation["responses"].setdefault(code, {"description": description, "content": detail})
        return operation
