"""Serializer fields shared by the endpoints. Read side: `{uuid, name}` references and Herald's datetime format.
Write side: languages, URNs, and references to contacts and groups.

References are resolved within the request's workspace only (serializer context "workspace"), so another
workspace's objects are simply "No such object".
"""

import contextlib
import uuid

from django.db.models import Q
from django.db.models.manager import BaseManager
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from herald.contacts import urns
from herald.contacts.models import Contact, ContactGroup, ContactURN
from herald.languages import is_translation_language
from herald.workspaces.send_window import DAY_NAMES, SendWindow, SendWindowError

from .formats import format_datetime

MAX_REFERENCES = 100


# A read serializer for the hottest pages: each item is built by one function per declared field, made once per
# serializer, instead of DRF's field-by-field machinery. A 250-broadcast page (bench/RESULTS.md's `api` figures, about
# 18 ms a page) then serializes in about 3 ms instead of 6. The fields stay the one declaration: names, order, values
# and the schema.
# Each function gives what `field.to_representation(field.get_attribute(item))` gives, `None` kept as `None`.
# (Comments, not a docstring: drf-spectacular would publish a docstring as each subclass's description.)
class DirectReadSerializer(serializers.Serializer):
    def to_representation(self, instance):
        readers = self.__dict__.get("_readers")
        if readers is None:
            readers = self._readers = [(field.field_name, field_reader(field)) for field in self._readable_fields]
        return {name: read(instance) for name, read in readers}


def field_reader(field):
    if isinstance(field, serializers.SerializerMethodField):
        return getattr(field.parent, field.method_name)
    represent = field.to_representation
    if field.source == "*":
        return represent
    if len(field.source_attrs) != 1:
        return lambda item: field.to_representation(value) if (value := field.get_attribute(item)) is not None else None
    (attribute,) = field.source_attrs
    if isinstance(field, serializers.ListSerializer):
        # `many=True`: the child's representation of each element, without the list serializer around it.
        represent_one = field.child.to_representation

        def read_each(item):
            elements = getattr(item, attribute)
            if isinstance(elements, BaseManager):
                elements = elements.all()
            return [represent_one(element) for element in elements]

        return read_each

    def read(item):
        value = getattr(item, attribute)
        if callable(value):
            value = value()
        return None if value is None else represent(value)

    return read


# `{uuid, name}`: how the API refers to another object (a contact, group, channel), from a model instance or a dict
# with those keys.
class ObjectRefSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    name = serializers.CharField(allow_null=True)

    def to_representation(self, obj):
        # Pages hold thousands of these: read the two values directly rather than field by field.
        if isinstance(obj, dict):
            return {"uuid": str(obj["uuid"]), "name": obj["name"]}
        return object_ref(obj)


def object_ref(obj) -> dict:
    return {"uuid": str(obj.uuid), "name": obj.name}


class LabelField(serializers.CharField):
    """A stored code shown by its name, e.g. a broadcast's status `"C"` as `"completed"`; `labels` maps each code.

    (Cheaper than `source="get_status_display"`, whose callable DRF inspects on every item.)"""

    def __init__(self, labels: dict, **kwargs):
        super().__init__(**kwargs)
        self.labels = labels

    def to_representation(self, value):
        return self.labels[value]


class DateTimeField(serializers.DateTimeField):
    """ISO-8601 in UTC with six fractional digits and a Z (`formats.format_datetime`), null for no time."""

    def to_representation(self, value):
        return format_datetime(value)


# Finding a contact by URN tells a known number from an unknown one: anonymous workspaces refuse it, before any
# lookup, with this one answer (RapidPro's for `?urn=`) whether or not the number is known (docs/COMPATIBILITY.md, C12).
URN_LOOKUPS_REFUSED = "URN lookups not allowed for anonymous organizations"


class LanguageField(serializers.CharField):
    """An ISO-639-3 code allowed as a translation language (`base_language`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 3)
        super().__init__(**kwargs)
        self.validators.append(validate_translation_language)


def validate_translation_language(value):
    if not is_translation_language(value):
        raise serializers.ValidationError("Not an allowed ISO 639-3 language code.")


class URNField(serializers.CharField):
    """A URN, normalised with the workspace's country; the internal value is the normalised string."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", urns.MAX_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            raise serializers.ValidationError(invalid_urn_message(data))
        text = super().to_internal_value(data)
        country = self.context["workspace"].country if "workspace" in self.context else ""
        try:
            return str(urns.parse_and_normalize(text, country))
        except urns.URNTooLong:
            self.fail("max_length", max_length=urns.MAX_LENGTH)
        except urns.InvalidURN:
            raise serializers.ValidationError(invalid_urn_message(text)) from None


def invalid_urn_message(value) -> str:
    return f"Invalid URN: {value}. Ensure phone numbers contain country codes."


class ReferenceListField(serializers.Field):
    """A list of up to 100 references (strings or integers), resolved in bulk.

    Errors are not indexed: the first reference that matches nothing gives `["No such object: <value>"]`, as
    RapidPro's `TembaModelField` does (`temba/api/v2/fields.py`). Duplicates resolve to one object.
    """

    default_error_messages = {
        "not_a_list": 'Expected a list of items but got type "{input_type}".',
        "max_length": f"Ensure this field has no more than {MAX_REFERENCES} elements.",
        "bad_type": "Must be a string or integer",
        "not_found": "No such object: {value}",
    }

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        if len(data) > MAX_REFERENCES:
            self.fail("max_length")
        for item in data:
            if isinstance(item, bool) or not isinstance(item, (str, int)):
                self.fail("bad_type")
        # No name, UUID or URN holds a NUL character: such a reference names nothing (and never reaches a query).
        found = self.resolve(self.context["workspace"], [item for item in data if not _has_nul(item)])
        resolved = []
        for item in data:
            obj = found.get(item)
            if obj is None:
                self.fail("not_found", value=item)
            if obj not in resolved:
                resolved.append(obj)
        return resolved

    def to_representation(self, value):
        return [{"uuid": str(obj.uuid), "name": obj.name} for obj in value]

    def resolve(self, workspace, refs: list) -> dict:
        """Map each reference to the object it names (absent when none)."""
        raise NotImplementedError


def _has_nul(value) -> bool:
    return isinstance(value, str) and "\x00" in value


def as_uuid(value):
    try:
        return uuid.UUID(str(value)) if isinstance(value, str) else None
    except ValueError:
        return None


class ContactRefsField(ReferenceListField):
    """Contacts by UUID or by URN (`tel:+250788123123`, not in anonymous workspaces); deleted contacts are not
    found."""

    def resolve(self, workspace, refs):
        by_uuid = {ref: u for ref in refs if (u := as_uuid(ref))}
        urn_refs = [ref for ref in refs if isinstance(ref, str) and ref not in by_uuid and ":" in ref]
        if urn_refs and workspace.is_anonymous:
            raise serializers.ValidationError(URN_LOOKUPS_REFUSED)
        by_identity = {}
        for ref in urn_refs:
            with contextlib.suppress(urns.InvalidURN):
                by_identity[ref] = urns.parse_and_normalize(ref, workspace.country).identity
        contacts = Contact.objects.filter(workspace=workspace, is_active=True)
        found = {}
        if by_uuid:
            uuids = {c.uuid: c for c in contacts.filter(uuid__in=by_uuid.values())}
            found.update({ref: uuids[u] for ref, u in by_uuid.items() if u in uuids})
        if by_identity:
            owners = {
                u.identity: u.contact
                for u in ContactURN.objects.filter(
                    workspace=workspace, identity__in=by_identity.values(), contact__is_active=True
                ).select_related("contact")
            }
            found.update({ref: owners[i] for ref, i in by_identity.items() if i in owners})
        return found


class GroupRefsField(ReferenceListField):
    """Groups by UUID or by name (case-insensitive)."""

    def resolve(self, workspace, refs):
        by_uuid = {ref: u for ref in refs if (u := as_uuid(ref))}
        names = {ref.lower(): ref for ref in refs if isinstance(ref, str)}
        condition = Q(uuid__in=by_uuid.values())
        for name in names:
            condition |= Q(name__iexact=name)
        groups = list(ContactGroup.objects.filter(workspace=workspace, is_active=True).filter(condition))
        found = {}
        for ref in refs:
            for group in groups:
                if by_uuid.get(ref) == group.uuid or (isinstance(ref, str) and group.name.lower() == ref.lower()):
                    found[ref] = group
                    break
        return found


class ReferenceField(serializers.Field):
    """One reference (a string or integer), resolved the way the list field `refs` resolves each of its items:
    `ReferenceField(GroupRefsField())` is one group by UUID or name. An empty string is no reference ("This field
    may not be null.", as DRF's related fields answer)."""

    default_error_messages = {
        "bad_type": ReferenceListField.default_error_messages["bad_type"],
        "not_found": ReferenceListField.default_error_messages["not_found"],
    }

    def __init__(self, refs: ReferenceListField, **kwargs):
        super().__init__(**kwargs)
        self.refs = refs

    def run_validation(self, data=serializers.empty):
        return super().run_validation(None if data == "" else data)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            self.fail("bad_type")
        found = {} if _has_nul(data) else self.refs.resolve(self.context["workspace"], [data])
        if data not in found:
            self.fail("not_found", value=data)
        return found[data]

    def to_representation(self, value):
        return object_ref(value)


# A send window as the API reads and shows it (herald/workspaces/send_window.py owns the rules).
SEND_WINDOW_SCHEMA = {
    "type": "object",
    "nullable": True,
    "description": "When messages may be handed to a channel: days of the week and a local time window in an IANA "
    "zone (an `end` before `start` spans midnight; `end` may be `24:00`). Null: at any time.",
    "properties": {
        "days": {"type": "array", "items": {"type": "string", "enum": list(DAY_NAMES)}, "minItems": 1},
        "start": {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", "example": "08:00"},
        "end": {"type": "string", "pattern": r"^(([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?|24:00(:00)?)$", "example": "20:00"},
        "timezone": {"type": "string", "nullable": True, "example": "Africa/Kigali"},
    },
    "required": ["days", "start", "end"],
}


@extend_schema_field(SEND_WINDOW_SCHEMA)
class SendWindowField(serializers.Field):
    """A send window in a POST body, as a `SendWindow`; its `timezone` defaults to the workspace's (serializer context
    "workspace"). JSON null is "no window: send at any time" (the field's `allow_null`)."""

    def to_internal_value(self, value):
        try:
            return SendWindow.from_json(value, self.context["workspace"].timezone)
        except SendWindowError as error:
            raise serializers.ValidationError(
                {error.field: [error.message]} if error.field else [error.message]
            ) from None

    def to_representation(self, value):
        return value.as_json() if isinstance(value, SendWindow) else value
