"""Custom contact field keys: how a key is made from a name, which keys are allowed, how many fields a workspace may
have and how long a value may be (shared by the API and the importer)."""

import re
from typing import cast

from .models import ContactField
from .urns import SCHEMES

MAX_KEY_LENGTH = cast(int, ContactField._meta.get_field("key").max_length)  # a CharField\'s: never None
MAX_NAME_LENGTH = cast(int, ContactField._meta.get_field("name").max_length)  # a CharField\'s: never None
MAX_VALUE_LENGTH = ContactField.MAX_VALUE_LENGTH
MAX_PER_WORKSPACE = ContactField.MAX_PER_WORKSPACE

_VALID_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
# Keys that would read like a contact attribute in templates and queries (as in RapidPro).
RESERVED_KEYS = frozenset(
    {
        "id", "uuid", "name", "first_name", "language", "status", "groups", "urns", "fields", "flow", "notes",
        "created_on", "created_by", "modified_on", "modified_by", "last_seen_on", "is", "has", "contact", "org",
        "workspace",
    }
    | SCHEMES
)  # fmt: skip


class FieldLimitReached(Exception):
    pass


def make_key(name: str) -> str:
    """`Date of Birth` → `date_of_birth`: lowercase, each run of other characters one `_`, at most 36 long."""
    key = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    return key[:MAX_KEY_LENGTH].rstrip("_")


def key_error(key: str) -> str | None:
    if not _VALID_KEY.match(key) or key in RESERVED_KEYS:
        return f'Generated key "{key}" is invalid or a reserved name.'
    return None


def workspace_keys(workspace) -> list[str]:
    return list(ContactField.objects.filter(workspace=workspace).order_by("id").values_list("key", flat=True))


def check_limit(workspace, adding: int = 1) -> None:
    """Raise FieldLimitReached unless the workspace may have `adding` more fields."""
    if ContactField.objects.filter(workspace=workspace).count() + adding > MAX_PER_WORKSPACE:
        raise FieldLimitReached()


def create_field(workspace, key: str, name: str) -> ContactField:
    check_limit(workspace)
    return ContactField.objects.create(workspace=workspace, key=key, name=name)
