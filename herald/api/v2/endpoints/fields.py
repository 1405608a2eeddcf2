"""`/api/v2/fields.json`: the custom contact field keys (`fields` on contacts, `@fields.KEY` in messages)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, serializers

from herald.api.v2 import openapi
from herald.api.v2.base import BaseEndpoint, ListAPIMixin
from herald.api.v2.create_or_rename import UNIQUE_MESSAGE, CreateOrRenameMixin, CreateOrRenameSerializer
from herald.api.v2.filters import Filter
from herald.api.v2.params import text_param
from herald.api.v2.permissions import ADMIN_EDITOR, ALL_ROLES
from herald.contacts import contact_fields, field_values
from herald.contacts.contact_fields import MAX_NAME_LENGTH, NAME_MESSAGE, is_valid_name, key_error, make_key
from herald.contacts.models import ContactField

TYPES = list(field_values.TYPES)
# The deprecated `value_type` names (`numeric` for `number`), as written and listed, → the type.
DEPRECATED_TYPES = {field_values.DEPRECATED_NAMES.get(value_type, value_type): value_type for value_type in TYPES}


def deprecated_type_name(value_type: str) -> str:
    return field_values.DEPRECATED_NAMES.get(value_type, value_type)


class FieldReadSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=TYPES, source="value_type")
    featured = serializers.SerializerMethodField()
    priority = serializers.SerializerMethodField()
    usages = serializers.SerializerMethodField()
    agent_access = serializers.SerializerMethodField()
    label = serializers.CharField(source="name", help_text="Deprecated: same as name")  # type: ignore[assignment]  # the wire format's key; DRF takes declared fields off the class
    value_type = serializers.SerializerMethodField(help_text="Deprecated: same as type")

    def get_featured(self, field) -> bool:
        return False

    def get_priority(self, field) -> int:
        return 0

    def get_usages(self, field) -> dict[str, int]:
        return {"campaign_events": 0, "flows": 0, "groups": 0}

    def get_agent_access(self, field) -> str:
        return "view"

    @extend_schema_field({"type": "string", "enum": list(DEPRECATED_TYPES)})
    def get_value_type(self, field) -> str:
        return deprecated_type_name(field.value_type)


class FieldWriteSerializer(CreateOrRenameSerializer):
    """`name` and `type`, or their deprecated names `label` and `value_type` (whose errors come under those keys)."""

    limit_reached = contact_fields.FieldLimitReached
    check_limit = staticmethod(contact_fields.check_limit)

    name = serializers.CharField(required=False, max_length=MAX_NAME_LENGTH)
    type = serializers.ChoiceField(required=False, choices=TYPES)
    label = serializers.CharField(  # type: ignore[assignment]  # the wire format's key; DRF takes declared fields off the class
        required=False, max_length=MAX_NAME_LENGTH, help_text="Deprecated: same as name"
    )
    value_type = serializers.ChoiceField(
        required=False, choices=list(DEPRECATED_TYPES), help_text="Deprecated: same as type (`numeric` for number)"
    )

    def validate_name(self, value):
        if not is_valid_name(value):
            raise serializers.ValidationError(NAME_MESSAGE)
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

    def validate_label(self, value):
        return self.validate_name(value)

    def validate_value_type(self, value):
        return DEPRECATED_TYPES[value]

    def validate(self, data):
        # As RapidPro: a missing name or type is said once, for the object, whichever of its two names is used.
        if not data.get("name") and not data.get("label"):
            raise serializers.ValidationError("Field 'name' is required.")
        if not data.get("type") and not data.get("value_type"):
            raise serializers.ValidationError("Field 'type' is required.")
        self.type_key = "type" if data.get("type") else "value_type"
        return {"name": data.get("name") or data["label"], "type": data.get("type") or data["value_type"]}

    def update_named(self, instance, name):
        instance = super().update_named(instance, name)
        try:
            contact_fields.change_type(instance, self.validated_data["type"])
        except contact_fields.ValuesDontFit as error:  # docs/COMPATIBILITY.md, C30
            raise serializers.ValidationError({self.type_key: [str(error)]}) from None
        return instance

    def create_named(self, workspace, name):
        # The key is made once, from the name it is created with; a rename keeps it.
        return contact_fields.create_field(workspace, make_key(name), name, self.validated_data["type"])


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
