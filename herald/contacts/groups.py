"""Contact groups: the naming rules, the per-workspace limit, creating and deleting (shared by API and importer)."""

from typing import cast

from django.utils import timezone

from .models import Contact, ContactGroup

MAX_NAME_LENGTH = cast(int, ContactGroup._meta.get_field("name").max_length)  # a CharField\'s: never None
FORBIDDEN_CHARACTERS = '"\\'


class GroupLimitReached(Exception):
    pass


def name_error(name: str) -> str | None:
    """Why `name` can't name a group, or None when it can (RapidPro's NameValidator messages)."""
    if len(name) > MAX_NAME_LENGTH:
        return f"Ensure this field has no more than {MAX_NAME_LENGTH} characters."
    if name != name.strip():
        return "Cannot begin or end with whitespace."
    for character in FORBIDDEN_CHARACTERS:
        if character in name:
            return f"Cannot contain the character: {character}"
    if "\0" in name:
        return "Null characters are not allowed."
    return None


def active_groups(workspace):
    return ContactGroup.objects.filter(workspace=workspace, is_active=True)


def name_taken(workspace, name: str, exclude: ContactGroup | None = None) -> bool:
    groups = active_groups(workspace).filter(name__iexact=name)
    if exclude is not None:
        groups = groups.exclude(pk=exclude.pk)
    return groups.exists()


def check_limit(workspace) -> None:
    if active_groups(workspace).count() >= ContactGroup.MAX_PER_WORKSPACE:
        raise GroupLimitReached()


def create_group(workspace, name: str) -> ContactGroup:
    check_limit(workspace)
    return ContactGroup.objects.create(workspace=workspace, name=name)


def get_or_create_group(workspace, name: str) -> tuple[ContactGroup, bool]:
    """The active group with this name (case-insensitive), created if there's none."""
    group = active_groups(workspace).filter(name__iexact=name).first()
    if group is not None:
        return group, False
    return create_group(workspace, name), True


def delete_group(group: ContactGroup) -> None:
    """Soft delete: the row stays for the broadcasts that addressed it; its members leave it (and are marked
    modified, so clients syncing contacts by `after=` see their new groups). The group's row is locked first, as
    `writes.add_to_group` locks it, so nobody joins it while it goes."""
    list(ContactGroup.objects.select_for_update().filter(pk=group.pk).values_list("pk"))
    members = ContactGroup.contacts.through.objects.filter(contactgroup=group)
    Contact.objects.filter(id__in=members.values("contact_id")).update(modified_on=timezone.now())
    members.delete()
    group.is_active = False
    group.save(update_fields=["is_active"])
