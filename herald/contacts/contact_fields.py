"""Custom contact fields: how a key is made from a name, which names and keys are allowed, how many fields a
workspace may have, how long a value may be, and each field's type (shared by the API and the importer)."""

import re
from collections.abc import Mapping
from typing import cast
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from herald.db import update_rows
from herald.workspaces.models import Workspace

from . import field_values
from .models import Contact, ContactField

MAX_KEY_LENGTH = cast(int, ContactField._meta.get_field("key").max_length)  # a CharField\'s: never None
MAX_NAME_LENGTH = cast(int, ContactField._meta.get_field("name").max_length)  # a CharField\'s: never None
MAX_VALUE_LENGTH = ContactField.MAX_VALUE_LENGTH
MAX_PER_WORKSPACE = ContactField.MAX_PER_WORKSPACE

_VALID_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
# RapidPro's rule for a field's name: letters, digits, hyphens and inner spaces (ContactField.is_valid_name).
_VALID_NAME = re.compile(r"[A-Za-z0-9\- ]+")
NAME_MESSAGE = "Can only contain letters, numbers and hypens."  # RapidPro's words, its spelling kept
# Keys that would read like something else in templates and contact queries: RapidPro's list
# (temba/contacts/models.py ContactField.RESERVED_KEYS), so that a script's keys are valid here exactly when they
# are there.
RESERVED_KEYS = frozenset({"has", "is", "fields", "urns", "created_on", "last_seen_on"})


class FieldLimitReached(Exception):
    pass


def make_key(name: str) -> str:
    """`Date of Birth` → `date_of_birth`: lowercase, each run of other characters one `_`, at most 36 long."""
    key = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    return key[:MAX_KEY_LENGTH].rstrip("_")


def is_valid_name(name: str) -> bool:
    return name == name.strip() and _VALID_NAME.fullmatch(name) is not None


def key_error(key: str) -> str | None:
    if not _VALID_KEY.match(key) or key in RESERVED_KEYS:
        return f'Generated key "{key}" is invalid or a reserved name.'
    return None


def workspace_keys(workspace) -> list[str]:
    return list(ContactField.objects.filter(workspace=workspace).order_by("id").values_list("key", flat=True))


def workspace_types(workspace: Workspace) -> dict[str, str]:
    """key → type of each of the workspace's fields."""
    return dict(ContactField.objects.filter(workspace=workspace).values_list("key", "value_type"))


def clean_values(workspace, values: Mapping[str, str | None]) -> dict[str, str | None]:
    """`values` (of known keys) checked and normalised for their fields' types; raises InvalidFieldValue."""
    return field_values.normalise_values(values, workspace_types(workspace), ZoneInfo(workspace.timezone))


class ValuesDontFit(Exception):
    """Some contacts' values of a field can't take the type it would change to."""

    def __init__(self, field: ContactField, value_type: str, count: int):
        noun = "contact has a value" if count == 1 else "contacts have values"
        super().__init__(
            f"Can't change the type of '{field.key}' to {value_type}: {count} {noun} that"
            f" {'is' if count == 1 else 'are'} not {field_values.describe(value_type)}."
        )


def change_type(field: ContactField, value_type: str) -> None:
    """Give `field` a new type, its contacts' values normalised for it (all of them, or none: ValuesDontFit)."""
    if value_type == field.value_type:
        return
    zone = ZoneInfo(field.workspace.timezone)
    now = timezone.now()
    changed, misfits = [], 0
    with transaction.atomic():
        holders = Contact.objects.select_for_update().filter(workspace=field.workspace, fields__has_key=field.key)
        for contact in holders.only("id", "fields").iterator(chunk_size=2000):
            old = contact.fields[field.key]
            try:
                new = field_values.normalise(field.key, value_type, old, zone)
            except field_values.InvalidFieldValue:
                misfits += 1
                continue
            if new != old:  # its listed value changes: clients syncing by modified_on see it
                contact.fields[field.key], contact.modified_on = new, now
                changed.append(contact)
        if misfits:
            raise ValuesDontFit(field, value_type, misfits)
        update_rows(Contact, changed, ["fields", "modified_on"])
        field.value_type = value_type
        field.save(update_fields=["value_type"])


def check_limit(workspace, adding: int = 1) -> None:
    """Raise FieldLimitReached unless the workspace may have `adding` more fields."""
    if ContactField.objects.filter(workspace=workspace).count() + adding > MAX_PER_WORKSPACE:
        raise FieldLimitReached()


def create_field(workspace, key: str, name: str, value_type: str = field_values.TEXT) -> ContactField:
    check_limit(workspace)
    return ContactField.objects.create(workspace=workspace, key=key, name=name, value_type=value_type)
