import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, serializers

from herald.api.v2 import openapi
from herald.api.v2.base import BaseEndpoint, DeleteAPIMixin, ListAPIMixin, WriteAPIMixin
from herald.api.v2.filters import NOTHING, Filter
from herald.api.v2.pagination import ModifiedOnCursorPagination
from herald.api.v2.params import InvalidParam, bool_param, datetime_param, text_param, uuid_param
from herald.api.v2.permissions import ADMIN_EDITOR, ALL_ROLES
from herald.api.v2.serializer_fields import (
    URN_LOOKUPS_REFUSED,
    DateTimeField,
    GroupRefsField,
    LabelField,
    ObjectRefSerializer,
    URNField,
    object_ref,
)
from herald.channels.models import Channel
from herald.channels.routing import choose_route
from herald.contacts import contact_fields, field_values, notes, urns, writes
from herald.contacts.contact_fields import MAX_VALUE_LENGTH as MAX_FIELD_VALUE_LENGTH
from herald.contacts.contact_fields import workspace_keys
from herald.contacts.models import Contact, ContactGroup, ContactNote, ContactStatus, ContactURN, StatusReason
from herald.contacts.refs import contact_ref
from herald.languages import is_contact_language

MAX_URNS = 100
MAX_FIELD_VALUES = 100


URN_ORDER_PRIORITY = "priority"

EXPANDED_URN_SCHEMA = {
    "type": "object",
    "properties": {
        "channel": {
            "type": "object",
            "nullable": True,
            "properties": {"uuid": {"type": "string", "format": "uuid"}, "name": {"type": "string"}},
            "required": ["uuid", "name"],
        },
        "scheme": {"type": "string"},
        "path": {"type": "string"},
        "display": {"type": "string", "nullable": True},
    },
    "required": ["channel", "scheme", "path", "display"],
}


class UserRefSerializer(serializers.Serializer):
    """Who wrote something: RapidPro's `{email, name}` of a user."""

    email = serializers.EmailField()
    name = serializers.CharField(source="get_full_name")


class ContactNoteSerializer(serializers.Serializer):
    text = serializers.CharField()
    created_on = DateTimeField()
    # Null once the author's account is removed.
    created_by = UserRefSerializer(allow_null=True)


class ContactReadSerializer(serializers.Serializer):
    """A contact as the API shows it. Deleted contacts keep only their uuid and dates; anonymous workspaces never
    see URN paths and get `ref` / `anon_display` instead."""

    uuid = serializers.UUIDField()
    name = serializers.CharField(allow_null=True, read_only=True)
    ref = serializers.SerializerMethodField(help_text="Anonymous workspaces only")
    anon_display = serializers.SerializerMethodField(help_text="Anonymous workspaces only (deprecated, same as ref)")
    status = LabelField(dict(ContactStatus.choices), allow_null=True, read_only=True)
    language = serializers.CharField(allow_null=True, read_only=True)
    urns = serializers.SerializerMethodField()
    groups = serializers.SerializerMethodField()
    notes = serializers.SerializerMethodField()
    # (the method can't be get_fields: that name is the Serializer's own)
    fields = serializers.SerializerMethodField(method_name="get_field_values")  # type: ignore[assignment]  # the wire format's key; DRF takes declared fields off the class
    flow = serializers.SerializerMethodField()
    created_on = DateTimeField(read_only=True)
    modified_on = DateTimeField(read_only=True)
    last_seen_on = DateTimeField(allow_null=True, read_only=True)
    blocked = serializers.SerializerMethodField(help_text="Deprecated: use status")
    stopped = serializers.SerializerMethodField(help_text="Deprecated: use status")
    # Herald's, after RapidPro's fields (docs/COMPATIBILITY.md, C62).
    status_changed_on = DateTimeField(
        allow_null=True, read_only=True, help_text="When `status` last changed; null if it never has"
    )
    status_reason = serializers.ChoiceField(
        choices=StatusReason.values,
        allow_null=True,
        read_only=True,
        help_text="Why `status` last changed: " + "; ".join(f"`{r.value}`: {r.label}" for r in StatusReason),
    )

    # What a deleted contact shows instead of its values.
    DELETED: dict[str, Any] = {
        "name": None,
        "status": None,
        "language": None,
        "urns": [],
        "groups": [],
        "notes": [],
        "fields": {},
        "blocked": None,
        "stopped": None,
        "status_changed_on": None,
        "status_reason": None,
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        workspace = self.context.get("workspace")
        if workspace is not None and not workspace.is_anonymous:
            self.fields.pop("ref")
            self.fields.pop("anon_display")

    def to_representation(self, contact):
        if contact.is_active:
            return super().to_representation(contact)
        # A deleted contact: only its uuid and dates (and an anonymous workspace's ref) are read.
        return {
            name: self.DELETED[name] if name in self.DELETED else field.to_representation(field.get_attribute(contact))
            for name, field in self.fields.items()
        }

    def get_ref(self, contact) -> str:
        return contact_ref(contact.id)

    def get_anon_display(self, contact) -> str:
        return self.get_ref(contact)

    @extend_schema_field({"type": "array", "items": {"oneOf": [{"type": "string"}, EXPANDED_URN_SCHEMA]}})
    def get_urns(self, contact):
        contact_urns = list(contact.urns.all())  # highest priority first
        if self.context.get("expand_urns"):
            return self.expanded_urns(contact_urns)
        if self.context["workspace"].is_anonymous:
            return [urns.redacted(urn.scheme) for urn in contact_urns]
        # `scheme:path` only, as RapidPro writes a contact's URNs (`temba/api/v2/fields.py` `serialize_urn`); the
        # display is the message's to show (`temba/api/v2/tests/test_serializers.py::FieldsTest::test_contact`).
        return [str(urns.URN(urn.scheme, urn.path)) for urn in contact_urns]

    def expanded_urns(self, contact_urns: list[ContactURN]) -> list[dict]:
        """Each URN as an object with the channel that would send to it, RapidPro's `expand_urns=true`
        (mailroom's `contact/inspect`): URNs some channel can reach first, unless `urn_order=priority`."""
        anonymous = self.context["workspace"].is_anonymous
        expanded = []
        for urn in contact_urns:
            route = choose_route([urn], self.context["channels"])
            expanded.append(
                {
                    "channel": object_ref(route[1]) if route else None,
                    "scheme": urn.scheme,
                    "path": urns.REDACTED_PATH if anonymous else urn.path,
                    # docs/COMPATIBILITY.md, C34: every URN's display, and none in anonymous workspaces.
                    "display": None if anonymous else urn.display or None,
                }
            )
        if self.context.get("urn_order") != URN_ORDER_PRIORITY:
            expanded.sort(key=lambda urn: urn["channel"] is None)  # stable: priority order within each part
        return expanded

    @extend_schema_field(ObjectRefSerializer(many=True))
    def get_groups(self, contact):
        groups = getattr(contact, "active_groups", None)
        if groups is None:
            groups = contact.groups.filter(is_active=True).order_by("id")
        return [object_ref(group) for group in groups]

    @extend_schema_field(ContactNoteSerializer(many=True))
    def get_notes(self, contact):
        # The newest KEPT, oldest first (RapidPro's order); older ones are pruned as new ones are written.
        recent = list(contact.notes.all())[-ContactNote.KEPT :]
        return ContactNoteSerializer(recent, many=True).data

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string", "nullable": True}})
    def get_field_values(self, contact):
        values = contact.fields or {}
        return {key: values.get(key) for key in self.context["field_keys"]}

    @extend_schema_field(ObjectRefSerializer(allow_null=True))
    def get_flow(self, contact):
        return None

    def get_blocked(self, contact) -> bool | None:
        return contact.status == ContactStatus.BLOCKED

    def get_stopped(self, contact) -> bool | None:
        return contact.status == ContactStatus.STOPPED


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
    # A new note (the contact keeps its newest few, listed as `notes`); blank is a note too, as in RapidPro.
    note = serializers.CharField(required=False, max_length=ContactNote.MAX_LENGTH, allow_blank=True)
    urns = serializers.ListField(required=False, child=URNField(), max_length=MAX_URNS)
    groups = GroupRefsField(required=False)
    fields = serializers.DictField(  # type: ignore[assignment]  # the wire format's key; DRF takes declared fields off the class
        required=False,
        child=serializers.CharField(allow_blank=True, allow_null=True, max_length=MAX_FIELD_VALUE_LENGTH),
    )

    @property
    def workspace(self):
        return self.context["workspace"]

    def to_internal_value(self, data):
        # A field this serializer doesn't have is refused, never ignored: a client that sends `status` or `blocked`
        # must not get a 200 that changed nothing (docs/COMPATIBILITY.md, C32). Reported with the other errors.
        unknown = {key: [self.unknown_field_message()] for key in data if key not in self._declared_fields}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**exc.detail, **unknown}) from None
        if unknown:
            raise serializers.ValidationError(unknown)
        return value

    def unknown_field_message(self) -> str:
        # (The declared fields: `self.fields` is what mypy takes for the `fields` field.)
        return f"Not a field of a contact: a POST may send {', '.join(self._declared_fields)}."

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
        try:  # each value checked and normalised for its field's type (docs/COMPATIBILITY.md, C28)
            return contact_fields.clean_values(self.workspace, value)
        except field_values.InvalidFieldValue as error:
            raise serializers.ValidationError(str(error)) from None

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
        note = changes.pop("note", None)
        try:
            with transaction.atomic():
                if self.instance is None:
                    contact = writes.create_contact(self.workspace, **changes)
                else:
                    contact = writes.update_contact(self.instance, **changes)
                if note is not None:
                    # Kept on create too, where RapidPro drops it (docs/COMPATIBILITY.md, C33).
                    notes.add_note(contact, note, self.context["user"])
                return contact
        except writes.URNInUse as exc:
            raise urns_in_use_error(exc.indexes) from None
        except IntegrityError:
            # Another request took one of these URNs between our check and our write.
            raise urns_in_use_error([0]) from None


class ContactWriteSchema(OpenApiSerializerExtension):
    """The schema says what the serializer does: a key it doesn't have is refused (docs/COMPATIBILITY.md, C32)."""

    target_class = ContactWriteSerializer

    def map_serializer(self, auto_schema, direction):
        return {**super().map_serializer(auto_schema, direction), "additionalProperties": False}


def urns_in_use_error(indexes: list[int]) -> serializers.ValidationError:
    return serializers.ValidationError({"urns": {str(i): [writes.URNInUse.message] for i in indexes}})


def deleted_filter(view, deleted: bool) -> Q:
    # Always applied: without `deleted=true` only contacts not deleted are listed.
    return Q(is_active=not deleted)


def urn_filter(view, value: str) -> Q:
    return Q(urns__identity=view.lookup_identity(value))


def group_filter(view, value: str) -> Q:
    """Members of the group with this UUID or name; a group that doesn't exist has none."""
    groups = ContactGroup.objects.filter(workspace=view.workspace, is_active=True)
    try:
        group = groups.filter(uuid=uuid.UUID(value)).first()
    except ValueError:
        group = groups.filter(name__iexact=value).first()
    return Q(groups=group) if group else NOTHING


def urn_order_param(request, name: str) -> str | None:
    """`urn_order=priority` or nothing: another value is refused rather than read as the default order."""
    value = request.query_params.get(name) or None
    if value not in (None, URN_ORDER_PRIORITY):
        raise InvalidParam(f"Param '{name}': {value} is not a URN order; the only one is priority.")
    return value


# How the contacts of an answer show their URNs, on GET and POST alike (RapidPro's `prepare_for_serialization`).
URN_SHAPE_PARAMS = [
    Filter("expand_urns", bool_param, None, "`true`: each URN as an object with the channel that would send to it"),
    Filter(
        "urn_order",
        urn_order_param,
        None,
        "With `expand_urns=true`: `priority` keeps the contact's order of preference (by default, URNs some channel "
        "can reach come first)",
        schema_type=OpenApiTypes.STR,
        enum=(URN_ORDER_PRIORITY,),
    ),
]

URN = "The contact with this URN, e.g. `tel:+250788123123`"
LOOKUP_PARAMS = [
    OpenApiParameter("uuid", OpenApiTypes.UUID, description="The contact with this UUID"),
    OpenApiParameter("urn", OpenApiTypes.STR, description=URN),
]


@extend_schema_view(
    get=extend_schema(
        summary="List contacts",
        responses={200: ContactReadSerializer(many=True), 400: openapi.BAD_REQUEST, **openapi.COMMON_ERRORS},
    ),
    post=extend_schema(
        summary="Create or update a contact",
        parameters=[*LOOKUP_PARAMS, *(param.parameter() for param in URN_SHAPE_PARAMS)],
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
    """List, create, update and delete the contacts of your workspace.

    Its documentation page is `api/v2/docs/contacts.md`."""

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

    list_filters = [
        Filter("deleted", bool_param, deleted_filter, "`true` lists deleted contacts only"),
        Filter("uuid", uuid_param, "uuid", "The contact with this UUID"),
        Filter("urn", text_param, urn_filter, URN),
        Filter("group", text_param, group_filter, "Only members of this group (name or UUID)"),
        Filter("before", datetime_param, "modified_on__lte", "Only contacts modified on or before"),
        Filter("after", datetime_param, "modified_on__gte", "Only contacts modified on or after"),
        # Read by the pagination (ModifiedOnCursorPagination).
        Filter("reverse", bool_param, None, "`true` lists the oldest modified first"),
        # Read by the serializer.
        *URN_SHAPE_PARAMS,
    ]

    def filter_queryset(self, contacts):
        contacts = super().filter_queryset(contacts)
        return contacts.prefetch_related(
            Prefetch("urns", queryset=ContactURN.objects.order_by("-priority", "id")),
            Prefetch(
                "groups",
                queryset=ContactGroup.objects.filter(is_active=True).order_by("id"),
                to_attr="active_groups",
            ),
            notes.prefetch_notes(),
        )

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
            context.update(self.urn_shape())
        return context

    def urn_shape(self) -> dict:
        """`expand_urns` / `urn_order` read once a request (before a POST writes anything, so a bad value stores
        nothing), with the workspace's channels when URNs show which one would send to them."""
        if not hasattr(self, "_urn_shape"):
            expand = bool_param(self.request, "expand_urns")
            order = urn_order_param(self.request, "urn_order")
            channels = list(Channel.objects.filter(workspace=self.workspace, is_active=True)) if expand else []
            self._urn_shape = {"expand_urns": expand, "urn_order": order, "channels": channels}
        return self._urn_shape

    @property
    def field_keys(self) -> list[str]:
        if not hasattr(self, "_field_keys"):
            self._field_keys = workspace_keys(self.workspace)
        return self._field_keys

    def perform_delete(self, contact):
        try:
            with transaction.atomic():
                writes.delete_contact(contact)
        except writes.ContactsGone:
            raise exceptions.NotFound() from None  # another request deleted it first
