"""The rules of a workspace's globals (`@globals.KEY`): names, the keys made from them, the limit, and writing them.

RapidPro's facts (temba/globals/models.py `Global`, temba/api/v2/serializers.py `GlobalWriteSerializer`): names of
letters, digits, spaces, `_` and `-`, at most 36; the key is the name lower-cased with each run of other characters
one `_`, and must start with a letter; 250 a workspace.
"""

import re

from django.db import transaction
from django.utils import timezone

from .models import Global, Workspace

_VALID_NAME = re.compile(r"[A-Za-z0-9_\- ]+")
_VALID_KEY = re.compile(r"[a-z][a-z0-9_]*")

ILLEGAL_NAME = "Name contains illegal characters."
INVALID_KEY = "Name creates Key that is invalid"


class GlobalLimitReached(Exception):
    pass


def make_key(name: str) -> str:
    """`Org Name` → `org_name`."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def name_error(name: str) -> str | None:
    """What is wrong with `name` as the name of a new global, or None."""
    if not _VALID_NAME.fullmatch(name):
        return ILLEGAL_NAME
    key = make_key(name)
    if not _VALID_KEY.fullmatch(key) or len(key) > Global.MAX_KEY_LENGTH:
        return INVALID_KEY
    return None


def active_globals(workspace: Workspace):
    return Global.objects.filter(workspace=workspace)


def name_taken(workspace: Workspace, name: str, exclude: Global | None = None) -> bool:
    """Another global of the workspace has this name, in any case."""
    others = active_globals(workspace).exclude(pk=exclude.pk) if exclude else active_globals(workspace)
    return others.filter(name__iexact=name).exists()


def key_taken(workspace: Workspace, name: str) -> bool:
    """A global of the workspace already has the key this name would make (`Org-Name` and `org name` share one)."""
    return active_globals(workspace).filter(key=make_key(name)).exists()


def check_limit(workspace: Workspace) -> None:
    if active_globals(workspace).count() >= Global.MAX_PER_WORKSPACE:
        raise GlobalLimitReached()


def create_global(workspace: Workspace, name: str, value: str) -> Global:
    with transaction.atomic():
        check_limit(workspace)
        return Global.objects.create(workspace=workspace, key=make_key(name), name=name, value=value)


def update_global(item: Global, value: str, name: str | None = None) -> Global:
    """A new value (and name: the key stays what it was made), modified now."""
    item.value = value
    item.name = name or item.name
    item.modified_on = timezone.now()
    item.save(update_fields=["value", "name", "modified_on"])
    return item
