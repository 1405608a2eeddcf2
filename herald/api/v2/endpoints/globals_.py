"""`/api/v2/globals.json`: the values messages quote as `@globals.KEY`, listed, created and changed.

(`globals_`: `globals` is a builtin's name.)"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers

from herald.api.v2 import openapi
from herald.api.v2.base import BaseEndpoint, ListAPIMixin
from herald.api.v2.create_or_rename import UNIQUE_MESSAGE, CreateOrRenameMixin, CreateOrRenameSerializer
from herald.api.v2.filters import Filter, modified_between
from herald.api.v2.pagination import ModifiedOnCursorPagination
from herald.api.v2.params import bool_param, text_param
from herald.api.v2.permissions import ADMIN_EDITOR
from herald.api.v2.serializer_fields import DateTimeField
from herald.workspaces import global_values
from herald.workspaces.models import Global

# RapidPro's message (`GlobalWriteSerializer.validate`, temba/api/v2/serializers.py).
NAME_REQUIRED = "Name is required when creating new global."


class GlobalReadSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    value = serializers.CharField()
    modified_on = DateTimeField()


class GlobalWriteSerializer(CreateOrRenameSerializer):
    limit_reached = global_values.GlobalLimitReached
    check_limit = staticmethod(global_values.check_limit)

    value = serializers.CharField(max_length=Global.MAX_VALUE_LENGTH)
    # Needed to create; on an update (`?key=`) it renames (docs/COMPATIBILITY.md, C36).
    name = serializers.CharField(required=False, max_length=Global.MAX_NAME_LENGTH)

    def validate_name(self, value):
        error = global_values.name_error(value)
        if error:
            raise serializers.ValidationError(error)
        workspace = self.context["workspace"]
        if global_values.name_taken(workspace, value, exclude=self.instance) or (
            self.instance is None and global_values.key_taken(workspace, value)
        ):
            raise serializers.ValidationError(UNIQUE_MESSAGE)
        return value

    def validate(self, attrs):
        if self.instance is None and not attrs.get("name"):
            raise serializers.ValidationError(NAME_REQUIRED)
        return attrs

    def create_named(self, workspace, name):
        return global_values.create_global(workspace, name, self.validated_data["value"])

    def update_named(self, instance, name):
        return global_values.update_global(instance, self.validated_data["value"], name)


KEY_DESCRIPTION = "The global with this key"
KEY_PARAM = OpenApiParameter("key", OpenApiTypes.STR, description=KEY_DESCRIPTION)


@extend_schema_view(
    get=extend_schema(
        summary="List globals",
        responses={200: GlobalReadSerializer(many=True), 400: openapi.BAD_REQUEST, **openapi.COMMON_ERRORS},
    ),
    post=extend_schema(
        summary="Create a global, or change the one ?key= names",
        parameters=[KEY_PARAM],
        request=GlobalWriteSerializer,
        responses=openapi.create_or_rename_responses(
            GlobalReadSerializer, {409: openapi.LIMIT_REACHED}, updated="Changed"
        ),
    ),
)
class GlobalsEndpoint(ListAPIMixin, CreateOrRenameMixin, BaseEndpoint):
    """List, create and change the globals of your workspace.

    Its documentation page is `api/v2/docs/globals.md`."""

    endpoint_name = "globals"
    title = "Globals"
    # Agents may neither list nor write them (temba/api/v2/tests/test_globals.py).
    roles = {"GET": ADMIN_EDITOR, "POST": ADMIN_EDITOR}
    serializer_class = GlobalReadSerializer
    write_serializer_class = GlobalWriteSerializer
    pagination_class = ModifiedOnCursorPagination
    lookup_params = {"key": "key"}
    list_filters = [
        Filter("key", text_param, "key", KEY_DESCRIPTION),
        *modified_between("globals"),
        # Read by the pagination (ModifiedOnCursorPagination).
        Filter("reverse", bool_param, None, "`true` lists the oldest modified first"),
    ]

    def get_queryset(self):
        return global_values.active_globals(self.workspace)

    def lookup_object(self, param, value):
        item = self.get_queryset().filter(key=value).first()
        if item is None:
            raise exceptions.NotFound()
        return item
