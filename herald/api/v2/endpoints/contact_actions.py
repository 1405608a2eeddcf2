from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from herald.api.v2 import openapi
from herald.api.v2.base import BaseEndpoint, BulkWriteAPIMixin
from herald.api.v2.permissions import ALL_ROLES
from herald.api.v2.serializer_fields import ContactRefsField, GroupRefsField, ReferenceField
from herald.contacts import writes
from herald.msgs.archive import archive_incoming

NOT_FOUND = ReferenceField.default_error_messages["not_found"]


def interrupt(contacts) -> None:
    """Herald runs no flows, so a contact has no run to interrupt (docs/COMPATIBILITY.md, C20)."""


def archive_messages(contacts) -> None:
    archive_incoming(contact.pk for contact in contacts)


# Each action: what it does to the contacts, and whether it names a group (RapidPro's `ContactBulkActionSerializer`
# in temba/api/v2/serializers.py; `archive` is its older name for `archive_messages`).
GROUP_ACTIONS = {"add": writes.add_to_group, "remove": writes.remove_from_group}
# Status changes: the status log keeps who made them.
STATUS_ACTIONS = {"block": writes.block, "unblock": writes.unblock}
CONTACT_ACTIONS = {
    "interrupt": interrupt,
    "archive_messages": archive_messages,
    "delete": writes.delete_contacts,
    "archive": archive_messages,
}
ACTIONS = [*GROUP_ACTIONS, *STATUS_ACTIONS, *CONTACT_ACTIONS]


class ContactActionSerializer(serializers.Serializer):
    contacts = ContactRefsField(help_text="Up to 100 contact UUIDs or URNs")
    action = serializers.ChoiceField(choices=ACTIONS)
    group = ReferenceField(GroupRefsField(), required=False, help_text="A group's UUID or name, for add and remove")

    def validate_contacts(self, value):
        if not value:
            raise serializers.ValidationError("Contacts can't be empty.")
        return value

    def validate(self, data):
        action, group = data["action"], data.get("group")
        if action in GROUP_ACTIONS and group is None:
            raise serializers.ValidationError(f'For action "{action}" you should also specify a group')
        if action not in GROUP_ACTIONS and group is not None:
            raise serializers.ValidationError(f'For action "{action}" you should not specify a group')
        return data

    def save(self):
        contacts, action = self.validated_data["contacts"], self.validated_data["action"]
        # The contacts and the group were looked up before the write locked them: one may have gone since.
        try:
            if action in GROUP_ACTIONS:
                GROUP_ACTIONS[action](self.validated_data["group"], contacts)
            elif action in STATUS_ACTIONS:
                STATUS_ACTIONS[action](contacts, by=self.context.get("user"))
            else:
                CONTACT_ACTIONS[action](contacts)
        except writes.CantJoinGroups as exc:
            message = f"Non-active contacts cannot be added to groups: {', '.join(exc.uuids)}"
            raise serializers.ValidationError({"non_field_errors": [message]}) from None
        except writes.ContactsGone as exc:
            raise serializers.ValidationError({"contacts": [NOT_FOUND.format(value=exc.uuids[0])]}) from None
        except writes.GroupGone:
            group = self.initial_data["group"]
            raise serializers.ValidationError({"group": [NOT_FOUND.format(value=group)]}) from None


@extend_schema_view(
    post=extend_schema(
        summary="Act on several contacts",
        request=ContactActionSerializer,
        responses={204: None, 400: openapi.BAD_REQUEST, **openapi.COMMON_ERRORS},
    ),
)
class ContactActionsEndpoint(BulkWriteAPIMixin, BaseEndpoint):
    """Add up to 100 contacts to a group or remove them from it, block, unblock or delete them, archive their messages.

    Its documentation page is `api/v2/docs/contact_actions.md`."""

    endpoint_name = "contact_actions"
    title = "Contact actions"
    # As RapidPro's `contacts.contact_update` permission, which its agents hold for the API (temba/settings_common.py).
    roles = {"POST": ALL_ROLES}
    # No read shape: the answer is an empty 204 (DRF's OPTIONS describes the body from serializer_class).
    serializer_class = write_serializer_class = ContactActionSerializer
