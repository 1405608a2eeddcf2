"""`/api/v2/fields.json`: the custom contact field keys (`fields` on contacts, `@fields.KEY` in messages)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers

from herald.api.v2 import openapi
from herald.api.v2.base import BaseEndpoint, ListAPIMixin
from herald.api.v2.create_or_rename import UNIQUE_MESSAGE, CreateOrRenameMixin, CreateOrRenameSerializer
from herald.api.v2.filters import Filter
from herald.api.v2.params import text_param
from herald.api.v2.permissions import ADMIN_EDITOR, ALL_ROLES
from herald.contacts import contact_fields
from herald.contacts.contact_fields import MAX_NAME_LENGTH, key_error, make_key
from herald.contacts.models import ContactField

# Herald stores every value as text; the other RapidPro types are refused, not treated as text (COMPATIBILITY.md C11).
TYPES = ["text"]


class FieldReadSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    type = serializers.SerializerMethodField()
    featured = serializers.SerializerMethodField()
    priority = serializers.SerializerMethodField()
    usages = serializers.SerializerMethodField()
    agent_access = serializers.SerializerMethodField()
    label = serializers.CharField(source="name", help_text="Deprecated: same as name")  # type: ignore[assignment]  # the wire format's key; DRF takes declared fields off the class
    value_type = serializers.SerializerMethodField(help_text="Deprecated: same as type")

    def get_type(self, field) -> str:
        return "text"

    def get_featured(self, field) -> bool:
        return False

    def get_priority(self, field) -> int:
        return 0

    def get_usages(self, field) -> dict[str, int]:
        return {"campaign_events": 0, "flows": 0, "groups": 0}

    def get_agent_access(self, field) -> str:
        return "view"

    def get_value_type(self, field) -> str:
        return "text"


class FieldWriteSerializer(CreateOrRenameSerializer):
    limit_reached = contact_fields.FieldLimitReached
    check_limit = staticmethod(contact_fields.check_limit)

    name = serializers.CharField(max_length=MAX_NAME_LENGTH)
    type = serializers.ChoiceField(choices=TYPES)

    def validate_name(self, value):
        workspace = self.context["workspace"]
        others = ContactField.objects.filter(workspace=workspace)
        if self.instance is None:
            key = make_key(value)
            error = key_error(key)
            if error:
                raise serializers.ValidationError(error)
            if others.filter(key=key).exists():
                raise serializers.ValidationError(UNIQUE_MESSAGE)
        else:
            others = others.exclude(pk=self.instance.pk)
        if others.filter(name__iexact=value).exists():
            raise serializers.ValidationError(UNIQUE_MESSAGE)
        return value

    def create_named(self, workspace, name):
        # The key is made once, from the name it is created with; a rename keeps it.
        return contact_fields.create_field(workspace, make_key(name), name)


KEY_DESCRIPTION = "The field with this key"
KEY_PARAM = OpenApiParameter("key", OpenApiTypes.STR, description=KEY_DESCRIPTION)


@extend_schema_view(
    get=extend_schema(
        summary="List contact fields",
        responses={200: FieldReadSerializer(many=True), **openapi.COMMON_ERRORS},
    ),
    post=extend_schema(
        summary="Create or rename a contact field",
        parameters=[KEY_PARAM],
        request=FieldWriteSerializer,
        responses=openapi.create_or_rename_responses(FieldReadSerializer, {409: openapi.LIMIT_REACHED}),
    ),
)
class FieldsEndpoint(ListAPIMixin, CreateOrRenameMixin, BaseEndpoint):
    """List and create the custom fields contacts can carry values for.

    Its documentation page is `api/v2/docs/fields.md`."""

    endpoint_name = "fields"
    title = "Contact fields"
    roles = {"GET": ALL_ROLES, "POST": ADMIN_EDITOR}
    serializer_class = FieldReadSerializer
    write_serializer_class = FieldWriteSerializer
    lookup_params = {"key": "key"}
    list_filters = [Filter("key", text_param, "key", KEY_DESCRIPTION)]

    def get_queryset(self):
        return ContactField.objects.filter(workspace=self.workspace)

    def lookup_object(self, param, value):
        field = self.get_queryset().filter(key=value).first()
        if field is None:
            raise exceptions.NotFound()
        return field
