"""Reusable pieces for describing endpoints in the OpenAPI schema (responses every endpoint shares)."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_array_type, build_object_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from .fields import MAX_REFERENCES

DETAIL = inline_serializer(name="ErrorDetail", fields={"detail": serializers.CharField()})

BAD_REQUEST = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='Invalid input: `{"field": ["message"]}`, `{"non_field_errors": [...]}` or `{"detail": "..."}`',
)
FORBIDDEN = OpenApiResponse(DETAIL, description="No valid token, or your role may not do this")
NOT_FOUND = OpenApiResponse(DETAIL, description="No such object in your workspace")
THROTTLED = OpenApiResponse(DETAIL, description="Too many requests: wait `Retry-After` seconds")
LIMIT_REACHED = OpenApiResponse(DETAIL, description="Your workspace has reached its limit of these objects")

COMMON_ERRORS = {403: FORBIDDEN, 429: THROTTLED}


class ReferenceListFieldSchema(OpenApiSerializerFieldExtension):
    """Reference lists (`groups`, `contacts` ...) are arrays of UUIDs or other identifying strings."""

    target_class = "herald.api.v2.fields.ReferenceListField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return build_array_type(build_object_type({"uuid": {"type": "string"}, "name": {"type": "string"}}))
        return {"type": "array", "items": {"type": "string"}, "maxItems": MAX_REFERENCES}
