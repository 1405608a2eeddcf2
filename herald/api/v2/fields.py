"""Serializer fields shared by the write endpoints: languages, URNs, and references to contacts and groups.

References are resolved within the request's workspace only (serializer context "workspace"), so another
workspace's objects are simply "No such object".
"""

import contextlib
import uuid

from django.db.models import Q
from rest_framework import serializers

from herald.contacts import urns
from herald.contacts.models import Contact, ContactGroup, ContactURN
from herald.languages import is_translation_language

MAX_REFERENCES = 100

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


def _as_uuid(value):
    try:
        return uuid.UUID(str(value)) if isinstance(value, str) else None
    except ValueError:
        return None


class ContactRefsField(ReferenceListField):
    """Contacts by UUID or by URN (`tel:+250788123123`, not in anonymous workspaces); deleted contacts are not
    found."""

    def resolve(self, workspace, refs):
        by_uuid = {ref: u for ref in refs if (u := _as_uuid(ref))}
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
        by_uuid = {ref: u for ref in refs if (u := _as_uuid(ref))}
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
