import uuid

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, serializers

from herald.contacts import urns, writes
from herald.contacts.contact_fields import MAX_VALUE_LENGTH as MAX_FIELD_VALUE_LENGTH
from herald.contacts.contact_fields import workspace_keys
from herald.contacts.models import Contact, ContactGroup, ContactStatus, ContactURN
from herald.languages import is_contact_language

from . import openapi
from .base import BaseEndpoint, DeleteAPIMixin, ListAPIMixin, WriteAPIMixin
from .fields import URN_LOOKUPS_REFUSED, GroupRefsField, URNField
from .formats import format_datetime, ref
from .pagination import ModifiedOnCursorPagination
from .params import InvalidParam, bool_param, datetime_param, uuid_param
from .permissions import ADMIN_EDITOR, ALL_ROLES

MAX_URNS = 100
MAX_FIELD_VALUES = 100

NULLABLE = {"nullable": True}
REFS = inline_serializer(
    name="ObjectRef", fields={"uuid": serializers.UUIDField(), "name": serializers.CharField()}, many=True
)


class ContactReadSerializer(serializers.Serializer):
    """A contact as the API shows it. Deleted contacts keep only their uuid and dates; anonymous workspaces never
    see URN paths and get `ref` / `anon_display` instead."""

    uuid = serializers.UUIDField()
    name = serializers.SerializerMethodField()
    ref = serializers.SerializerMethodField(help_text="Anonymous workspaces only")
    anon_display = serializers.SerializerMethodField(help_text="Anonymous workspaces only (deprecated, same as ref)")
    status = serializers.SerializerMethodField()
    language = serializers.SerializerMethodField()
    urns = serializers.SerializerMethodField()
    groups = serializers.SerializerMethodField()
    notes = serializers.SerializerMethodField()
    # (the method can't be get_fields: that name is the Serializer's own)
    fields = serializers.SerializerMethodField(method_name="get_field_values")  # type: ignore[assignment]  # the wire format's key; DRF takes declared fields off the class
    flow = serializers.SerializerMethodField()
    created_on = serializers.SerializerMethodField()
    modified_on = serializers.SerializerMethodField()
    last_seen_on = serializers.SerializerMethodField()
    blocked = serializers.SerializerMethodField(help_text="Deprecated: use status")
    stopped = serializers.SerializerMethodField(help_text="Deprecated: use status")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        workspace = self.context.get("workspace")
        if workspace is not None and not workspace.is_anonymous:
            self.fields.pop("ref")
            self.fields.pop("anon_display")

    def get_name(self, contact) -> str | None:
        return contact.name if contact.is_active else None

    def get_ref(self, contact) -> str:
        return f"{contact.id:010d}"

    def get_anon_display(self, contact) -> str:
        return self.get_ref(contact)

    def get_status(self, contact) -> str | None:
        return ContactStatus(contact.status).label if contact.is_active else None

    def get_language(self, contact) -> str | None:
        return contact.language if contact.is_active else None

    def get_urns(self, contact) -> list[str]:
        if not contact.is_active:
            return []
        if self.context["workspace"].is_anonymous:
            return [urns.redacted(urn.scheme) for urn in contact.urns.all()]
        return [urn.identity + (f"#{urn.display}" if urn.display else "") for urn in contact.urns.all()]

    @extend_schema_field(REFS)
    def get_groups(self, contact):
        if not contact.is_active:
            return []
        groups = getattr(contact, "active_groups", None)
        if groups is None:
            groups = contact.groups.filter(is_active=True).order_by("id")
        return [ref(group) for group in groups]

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_notes(self, contact):
        return []

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string", "nullable": True}})
    def get_field_values(self, contact):
        if not contact.is_active:
            return {}
        values = contact.fields or {}
        return {key: values.get(key) for key in self.context["field_keys"]}

    @extend_schema_field({**NULLABLE, "allOf": [{"$ref": "#/components/schemas/ObjectRef"}]})
    def get_flow(self, contact):
        return None

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_created_on(self, contact):
        return format_datetime(contact.created_on)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_modified_on(self, contact):
        return format_datetime(contact.modified_on)

    @extend_schema_field({**NULLABLE, "type": "string", "format": "date-time"})
    def get_last_seen_on(self, contact):
        return format_datetime(contact.last_seen_on)

    def get_blocked(self, contact) -> bool | None:
        return contact.status == ContactStatus.BLOCKED if contact.is_active else None

    def get_stopped(self, contact) -> bool | None:
        return contact.status == ContactStatus.STOPPED if contact.is_active else None


class ContactReadSchema(OpenApiSerializerExtension):
    """`ref` and `anon_display` are only there in anonymous workspaces, so the schema lists them as optional."""

    target_class = ContactReadSerializer
    anonymous_only = ("ref", "anon_display")

    def map_serializer(self, auto_schema, direction):
        schema = super().map_serializer(auto_schema, direction)
        schema["required"] = [name for name in schema.get("required", []) if name not in self.anonymous_only]
        return schema


class ContactWriteSerializer(serializers.Serializer):
    """Creates a contact, or updates the one in `instance` (only the fields sent change)."""

    name = serializers.CharField(required=False, max_length=64, allow_null=True)
    language = serializers.CharField(required=False, min_length=3, max_length=3, allow_null=True)
    urns = serializers.ListField(required=False, child=URNField(), max_length=MAX_URNS)
    groups = GroupRefsField(required=False)
    fields = serializers.DictField(  # type: ignore[assignment]  # the wire format's key; DRF takes declared fields off the class
        required=False,
        child=serializers.CharField(allow_blank=True, allow_null=True, max_length=MAX_FIELD_VALUE_LENGTH),
    )

    @property
    def workspace(self):
        return self.context["workspace"]

    def validate_language(self, value):
        if value is not None and not is_contact_language(value):
            raise serializers.ValidationError("Not a valid ISO639-3 language code.")
        return value

    def validate_urns(self, value):
        if self.context.get("lookup_urn"):
            raise serializers.ValidationError("Field not allowed when using URN in URL")
        # Creating with URNs is fine, but changing them would reveal to the caller which URNs are taken.
        if self.workspace.is_anonymous and self.instance is not None:
            raise serializers.ValidationError("Updating URNs not allowed for anonymous organizations")
        return value

    def validate_groups(self, value):
        if value and not writes.can_join_groups(self.instance):
            raise serializers.ValidationError("Non-active contacts can't be added to groups")
        return value

    def validate_fields(self, value):
        if len(value) > MAX_FIELD_VALUES:
            raise serializers.ValidationError(f"Ensure this field has no more than {MAX_FIELD_VALUES} elements.")
        known = set(self.context["field_keys"])
        for key in value:
            if key not in known:
                raise serializers.ValidationError(f"Invalid contact field key: {key}")
        return value

    def validate(self, data):
        if self.instance is not None and not self.instance.is_active:
            raise serializers.ValidationError("Deleted contacts can't be modified.")
        lookup_urn = self.context.get("lookup_urn")
        if lookup_urn and self.instance is None:
            # `?urn=` naming nobody creates the contact with that URN.
            data["urns"] = [lookup_urn]
        if data.get("urns"):
            taken = writes.urns_in_use(self.workspace, data["urns"], self.instance)
            if taken:
                raise urns_in_use_error(taken)
        return data

    def save(self):
        changes = dict(self.validated_data)
        try:
            with transaction.atomic():
                if self.instance is None:
                    return writes.create_contact(self.workspace, **changes)
                return writes.update_contact(self.instance, **changes)
        except writes.URNInUse as exc:
            raise urns_in_use_error(exc.indexes) from None
        except IntegrityError:
            # Another request took one of these URNs between our check and our write.
            raise urns_in_use_error([0]) from None


def urns_in_use_error(indexes: list[int]) -> serializers.ValidationError:
    return serializers.ValidationError({"urns": {str(i): [writes.URNInUse.message] for i in indexes}})


LOOKUP_PARAMS = [
    OpenApiParameter("uuid", OpenApiTypes.UUID, description="The contact with this UUID"),
    OpenApiParameter("urn", OpenApiTypes.STR, description="The contact with this URN, e.g. `tel:+250788123123`"),
]


@extend_schema_view(
    get=extend_schema(
        summary="List contacts",
        parameters=[
            *LOOKUP_PARAMS,
            OpenApiParameter("group", OpenApiTypes.STR, description="Only members of this group (name or UUID)"),
            OpenApiParameter("deleted", OpenApiTypes.BOOL, description="`true` lists deleted contacts only"),
            OpenApiParameter("before", OpenApiTypes.DATETIME, description="Only contacts modified on or before"),
            OpenApiParameter("after", OpenApiTypes.DATETIME, description="Only contacts modified on or after"),
            OpenApiParameter("reverse", OpenApiTypes.BOOL, description="`true` lists the oldest modified first"),
        ],
        responses={200: ContactReadSerializer(many=True), 400: openapi.BAD_REQUEST, **openapi.COMMON_ERRORS},
    ),
    post=extend_schema(
        summary="Create or update a contact",
        parameters=LOOKUP_PARAMS,
        request=ContactWriteSerializer,
        responses={
            200: OpenApiResponse(ContactReadSerializer, description="Updated"),
            201: OpenApiResponse(ContactReadSerializer, description="Created"),
            400: openapi.BAD_REQUEST,
            404: openapi.NOT_FOUND,
            **openapi.COMMON_ERRORS,
        },
    ),
    delete=extend_schema(
        summary="Delete a contact",
        parameters=LOOKUP_PARAMS,
        responses={204: None, 400: openapi.BAD_REQUEST, 404: openapi.NOT_FOUND, **openapi.COMMON_ERRORS},
    ),
)
class ContactsEndpoint(ListAPIMixin, WriteAPIMixin, DeleteAPIMixin, BaseEndpoint):
    """
    List, create, update and delete the contacts of your workspace.

    ## Listing contacts

    `GET /api/v2/contacts.json` returns the contacts, most recently modified first, 250 a page:

     * **uuid** - the UUID of the contact (string)
     * **name** - its name (string or null)
     * **status** - `active`, `blocked`, `stopped` or `archived` (string)
     * **language** - its preferred language, an ISO-639-3 code (string or null)
     * **urns** - its URNs, the preferred one first (array of strings)
     * **groups** - the groups it belongs to (array of `{uuid, name}`)
     * **notes** - always empty here (array)
     * **fields** - a value for every custom field of the workspace, null when unset (object)
     * **flow** - always null here
     * **created_on**, **modified_on**, **last_seen_on** - when it was created, last changed, last heard from
       (datetimes, `last_seen_on` may be null)
     * **blocked**, **stopped** - deprecated booleans, use `status`

    In anonymous workspaces URNs are masked (`tel:********`) and two more fields identify the contact:
    **ref** and **anon_display** (deprecated).
    A deleted contact (see `deleted=true`) shows only its uuid and dates: `name`, `status`, `language`,
    `blocked` and `stopped` are null, `urns` and `groups` are empty and `fields` is `{}`.

    Filters:

     * **uuid** - the contact with this UUID, e.g. `?uuid=09d23a05-47fe-11e4-bfe9-b8f6b119e9ab`
     * **urn** - the contact with this URN, e.g. `?urn=tel:%2B250788123123` (read with the workspace's country, so
       a local number works too; not allowed in anonymous workspaces)
     * **group** - members of this group, by name or UUID (a group that doesn't exist gives no contacts)
     * **deleted** - `true` for deleted contacts only
     * **before**, **after** - modified on or before / on or after this datetime
     * **reverse** - `true` to list the oldest modified first

    Example:

        GET /api/v2/contacts.json?urn=tel:%2B250788123123

        {
            "next": null,
            "previous": null,
            "results": [{
                "uuid": "09d23a05-47fe-11e4-bfe9-b8f6b119e9ab",
                "name": "Ben Haggerty",
                "status": "active",
                "language": "eng",
                "urns": ["tel:+250788123123"],
                "groups": [{"uuid": "6685e933-26e1-4363-a468-8f7268ab63a9", "name": "Customers"}],
                "notes": [],
                "fields": {"nickname": "Macklemore", "side_kick": null},
                "flow": null,
                "created_on": "2015-11-11T13:05:57.457742Z",
                "modified_on": "2020-08-11T13:05:57.576056Z",
                "last_seen_on": "2020-07-11T13:05:57.576056Z",
                "blocked": false,
                "stopped": false
            }]
        }

    ## Creating and updating contacts

    `POST /api/v2/contacts.json` creates a contact. To update one instead, name it in the URL with `?uuid=` or
    `?urn=`; only the fields you send change. `?urn=` with a URN nobody has creates a contact with that URN.

     * **name** - its name, up to 64 characters (string or null, optional)
     * **language** - an ISO-639-3 code (string or null, optional)
     * **urns** - up to 100 URNs, preferred first; on update they replace its URNs (array of strings, optional,
       not allowed with `?urn=`)
     * **groups** - up to 100 groups by UUID or name; on update they replace its groups (array, optional)
     * **fields** - up to 100 custom field values by key, each up to 640 characters; `null` or `""` clears one;
       create keys with `/api/v2/fields.json` first (object, optional)

    Example:

        POST /api/v2/contacts.json?uuid=09d23a05-47fe-11e4-bfe9-b8f6b119e9ab
        {
            "name": "Ben Haggerty",
            "language": "eng",
            "urns": ["tel:+250788123123", "twitter:ben"],
            "groups": ["Customers"],
            "fields": {"nickname": "Macklemore"}
        }

    You get the contact back as in a list: **201** when it was created, **200** when updated. Errors (400):

     * `{"urns": {"0": ["URN is in use by another contact."]}}` - another contact has that URN
     * `{"urns": {"0": ["Invalid URN: 12345. Ensure phone numbers contain country codes."]}}`
     * `{"language": ["Not a valid ISO639-3 language code."]}`
     * `{"fields": ["Invalid contact field key: shoe_size"]}`
     * `{"fields": {"nickname": ["Ensure this field has no more than 640 characters."]}}`
     * `{"groups": ["No such object: Nobody"]}`
     * `{"groups": ["Non-active contacts can't be added to groups"]}` - the contact is blocked, stopped or archived
     * `{"urns": ["Field not allowed when using URN in URL"]}`
     * `{"urns": ["Updating URNs not allowed for anonymous organizations"]}`
     * `{"non_field_errors": ["Deleted contacts can't be modified."]}`
     * `{"detail": "URL can only contain one of the following parameters: urn, uuid"}`
     * `{"detail": "URN lookups not allowed for anonymous organizations"}`

    A `?uuid=` that matches no contact of your workspace is a **404**.

    ## Deleting contacts

    `DELETE /api/v2/contacts.json?uuid=...` (or `?urn=...`) deletes a contact: **204**, or **404** if there is no
    such contact. It keeps its history but loses its URNs (free for another contact) and its groups.

    Agents may list, create and update contacts; only administrators and editors may delete them.
    """

    endpoint_name = "contacts"
    title = "Contacts"
    roles = {"GET": ALL_ROLES, "POST": ALL_ROLES, "DELETE": ADMIN_EDITOR}
    throttle_scope = "v2.contacts"
    pagination_class = ModifiedOnCursorPagination
    serializer_class = ContactReadSerializer
    write_serializer_class = ContactWriteSerializer
    lookup_params = {"urn": "urns__identity", "uuid": "uuid"}

    def get_queryset(self):
        contacts = Contact.objects.filter(workspace=self.workspace)
        if self.request.method == "DELETE":
            contacts = contacts.filter(is_active=True)
        return contacts

    def filter_queryset(self, contacts):
        params = self.request.query_params
        contacts = contacts.filter(is_active=not bool_param(self.request, "deleted"))
        if uuid := uuid_param(self.request):
            contacts = contacts.filter(uuid=uuid)
        if params.get("urn"):
            contacts = contacts.filter(urns__identity=self.lookup_identity(params["urn"]))
        if params.get("group"):
            group = self.group_param(params["group"])
            contacts = contacts.filter(groups=group) if group else contacts.none()
        if before := datetime_param(self.request, "before"):
            contacts = contacts.filter(modified_on__lte=before)
        if after := datetime_param(self.request, "after"):
            contacts = contacts.filter(modified_on__gte=after)
        return contacts.prefetch_related(
            Prefetch("urns", queryset=ContactURN.objects.order_by("-priority", "id")),
            Prefetch(
                "groups",
                queryset=ContactGroup.objects.filter(is_active=True).order_by("id"),
                to_attr="active_groups",
            ),
        )

    def group_param(self, value: str) -> ContactGroup | None:
        groups = ContactGroup.objects.filter(workspace=self.workspace, is_active=True)
        try:
            return groups.filter(uuid=uuid.UUID(value)).first()
        except ValueError:
            return groups.filter(name__iexact=value).first()

    def lookup_identity(self, value: str) -> str:
        """The normalised identity of a `?urn=` value (read with the workspace's country)."""
        return self.lookup_urn_value(value).identity

    def lookup_urn_value(self, value: str) -> urns.URN:
        if self.workspace.is_anonymous:
            raise InvalidParam(URN_LOOKUPS_REFUSED)
        try:
            return urns.parse_and_normalize(value, self.workspace.country)
        except urns.InvalidURN:
            raise InvalidParam(f"Invalid URN: {value}") from None

    def lookup_object(self, param, value):
        if param != "urn":
            return super().lookup_object(param, value)
        urn = self.lookup_urn_value(value)
        contact = self.get_queryset().filter(is_active=True, urns__identity=urn.identity).first()
        if contact is None and self.request.method != "POST":
            raise exceptions.NotFound()
        self.lookup_urn = urn  # a POST naming nobody creates the contact with it
        return contact

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "workspace" in context:
            context["field_keys"] = self.field_keys
            context["lookup_urn"] = getattr(self, "lookup_urn", None)
        return context

    @property
    def field_keys(self) -> list[str]:
        if not hasattr(self, "_field_keys"):
            self._field_keys = workspace_keys(self.workspace)
        return self._field_keys

    def workspace_blocker(self):
        # Flagged and suspended workspaces may not send; managing contacts sends nothing.
        return None

    def perform_delete(self, contact):
        with transaction.atomic():
            writes.delete_contact(contact)
