from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers

from herald.api.v2 import openapi
from herald.api.v2.base import BaseEndpoint, DeleteAPIMixin, ListAPIMixin
from herald.api.v2.create_or_rename import UNIQUE_MESSAGE, CreateOrRenameMixin, CreateOrRenameSerializer
from herald.api.v2.filters import Filter
from herald.api.v2.params import text_param, uuid_param
from herald.api.v2.permissions import ADMIN_EDITOR, ALL_ROLES
from herald.contacts import group_counts
from herald.contacts import groups as group_rules
from herald.contacts.models import ContactGroup


class GroupReadSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    name = serializers.CharField()
    query = serializers.SerializerMethodField(help_text="Always null: Herald groups are lists, not searches")
    status = serializers.SerializerMethodField()
    system = serializers.SerializerMethodField()
    count = serializers.IntegerField(source="member_count", help_text="Number of (not deleted) contacts in it")

    def get_query(self, group) -> str | None:
        return None

    def get_status(self, group) -> str:
        return "ready"

    def get_system(self, group) -> bool:
        return False


class GroupWriteSerializer(CreateOrRenameSerializer):
    limit_reached = group_rules.GroupLimitReached
    check_limit = staticmethod(group_rules.check_limit)

    # Whitespace is refused, not trimmed, so the name you send is the name you get.
    name = serializers.CharField(max_length=group_rules.MAX_NAME_LENGTH, trim_whitespace=False)

    def validate_name(self, value):
        error = group_rules.name_error(value)
        if error:
            raise serializers.ValidationError(error)
        if group_rules.name_taken(self.context["workspace"], value, exclude=self.instance):
            raise serializers.ValidationError(UNIQUE_MESSAGE)
        return value

    def create_named(self, workspace, name):
        return group_rules.create_group(workspace, name)


UUID_DESCRIPTION = "The group with this UUID"
UUID_PARAM = OpenApiParameter("uuid", OpenApiTypes.UUID, description=UUID_DESCRIPTION)


@extend_schema_view(
    get=extend_schema(
        summary="List groups",
        responses={200: GroupReadSerializer(many=True), 400: openapi.BAD_REQUEST, **openapi.COMMON_ERRORS},
    ),
    post=extend_schema(
        summary="Create or rename a group",
        parameters=[UUID_PARAM],
        request=GroupWriteSerializer,
        responses=openapi.create_or_rename_responses(GroupReadSerializer, {409: openapi.LIMIT_REACHED}),
    ),
    delete=extend_schema(
        summary="Delete a group",
        parameters=[UUID_PARAM],
        responses={204: None, 400: openapi.BAD_REQUEST, 404: openapi.NOT_FOUND, **openapi.COMMON_ERRORS},
    ),
)
class GroupsEndpoint(ListAPIMixin, CreateOrRenameMixin, DeleteAPIMixin, BaseEndpoint):
    """List, create, rename and delete the contact groups of your workspace.

    Its documentation page is `api/v2/docs/groups.md`."""

    endpoint_name = "groups"
    title = "Contact groups"
    roles = {"GET": ALL_ROLES, "POST": ADMIN_EDITOR, "DELETE": ADMIN_EDITOR}
    serializer_class = GroupReadSerializer
    write_serializer_class = GroupWriteSerializer
    list_filters = [
        Filter("uuid", uuid_param, "uuid", UUID_DESCRIPTION),
        Filter("name", text_param, "name__iexact", "The group with this name (case-insensitive)"),
    ]
    exclusive_filters = ["uuid", "name"]

    def get_queryset(self):
        # The member counts come with the page (the rows the triggers keep), so a page costs the same however big.
        return group_counts.with_member_counts(group_rules.active_groups(self.workspace))

    def get_serializer(self, *args, **kwargs):
        # A group just written has no member_count annotation: read it back through the list queryset.
        if args and isinstance(args[0], ContactGroup) and not hasattr(args[0], "member_count"):
            args = (self.get_queryset().get(pk=args[0].pk), *args[1:])
        return super().get_serializer(*args, **kwargs)

    def perform_delete(self, group):
        with transaction.atomic():
            group_rules.delete_group(group)
