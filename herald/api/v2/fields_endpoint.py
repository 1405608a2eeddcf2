"""`/api/v2/fields.json`: the custom contact field keys (`fields` on contacts, `@fields.KEY` in messages).

(Named `fields_endpoint` because `fields.py` holds the serializer fields.)
"""

from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers

from herald.contacts import contact_fields
from herald.contacts.contact_fields import MAX_NAME_LENGTH, key_error, make_key
from herald.contacts.models import ContactField

from . import openapi
from .base import BaseEndpoint, ListAPIMixin, WriteAPIMixin
from .groups import WorkspaceLimitReached
from .permissions import ADMIN_EDITOR, ALL_ROLES

UNIQUE_MESSAGE = "This field must be unique."
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


class FieldWriteSerializer(serializers.Serializer):
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

    def save(self):
        name = self.validated_data["name"]
        try:
            with transaction.atomic():
                if self.instance is None:
                    return contact_fields.create_field(self.context["workspace"], make_key(name), name)
                self.instance.name = name
                self.instance.save(update_fields=["name"])
                return self.instance
        except IntegrityError:
            # Another request created the same key between our check and our write.
            raise serializers.ValidationError({"name": [UNIQUE_MESSAGE]}) from None
        except contact_fields.FieldLimitReached:
            raise WorkspaceLimitReached() from None


KEY_PARAM = OpenApiParameter("key", OpenApiTypes.STR, description="The field with this key")


@extend_schema_view(
    get=extend_schema(
        summary="List contact fields",
        parameters=[KEY_PARAM],
        responses={200: FieldReadSerializer(many=True), **openapi.COMMON_ERRORS},
    ),
    post=extend_schema(
        summary="Create or rename a contact field",
        parameters=[KEY_PARAM],
        request=FieldWriteSerializer,
        responses=openapi.create_or_rename_responses(FieldReadSerializer, {409: openapi.LIMIT_REACHED}),
    ),
)
class FieldsEndpoint(ListAPIMixin, WriteAPIMixin, BaseEndpoint):
    """
    List and create the custom fields contacts can carry values for.

    ## Listing fields

    `GET /api/v2/fields.json` returns the fields, newest first, 250 a page; `?key=` picks one:

     * **key** - the key used in contact `fields` and in messages as `@fields.KEY` (string)
     * **name** - its display name (string)
     * **type** - always `text` (string)
     * **featured**, **priority**, **usages**, **agent_access** - fixed values kept for compatibility
     * **label**, **value_type** - deprecated copies of name and type

    Example:

        GET /api/v2/fields.json

        {
            "next": null,
            "previous": null,
            "results": [{
                "key": "nick_name", "name": "Nick name", "type": "text", "featured": false, "priority": 0,
                "usages": {"campaign_events": 0, "flows": 0, "groups": 0}, "agent_access": "view",
                "label": "Nick name", "value_type": "text"
            }]
        }

    ## Creating fields

    `POST /api/v2/fields.json` with a **name** (up to 36 characters) and a **type** (`text`) creates a field. Its key
    is made from the name: lowercase, each run of other characters than letters and digits becomes `_`
    (`Nick name` → `nick_name`). `POST /api/v2/fields.json?key=nick_name` renames a field; its key stays.

        POST /api/v2/fields.json
        {"name": "Nick name", "type": "text"}

    You get the field back: **201** when created, **200** when renamed. Errors (400):

     * `{"name": ["This field must be unique."]}` - a field already has this key or name
     * `{"name": ["Generated key \\"1st\\" is invalid or a reserved name."]}` - keys start with a letter and can't
       be a contact attribute such as `name` or `language`
     * `{"type": ["\\"numeric\\" is not a valid choice."]}`

    A workspace has at most 250 fields: creating one more is a **409**
    `{"detail": "Cannot create object because workspace has reached limit."}`.

    Every role may list fields; administrators and editors may create and rename them.
    """

    endpoint_name = "fields"
    title = "Contact fields"
    roles = {"GET": ALL_ROLES, "POST": ADMIN_EDITOR}
    serializer_class = FieldReadSerializer
    write_serializer_class = FieldWriteSerializer
    lookup_params = {"key": "key"}

    def get_queryset(self):
        return ContactField.objects.filter(workspace=self.workspace)

    def filter_queryset(self, fields):
        if key := self.request.query_params.get("key"):
            fields = fields.filter(key=key)
        return fields

    def lookup_object(self, param, value):
        field = self.get_queryset().filter(key=value).first()
        if field is None:
            raise exceptions.NotFound()
        return field

    def write(self, request):
        # As for groups: a new field beyond the limit is refused before anything else is looked at.
        if not self.lookup_values():
            try:
                contact_fields.check_limit(self.workspace)
            except contact_fields.FieldLimitReached:
                raise WorkspaceLimitReached() from None
        return super().write(request)

    def workspace_blocker(self):
        # Flagged and suspended workspaces may not send; managing fields sends nothing.
        return None
