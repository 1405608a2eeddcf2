"""How much a workspace may keep in uploads, and the check that keeps it there.

The usage is the sum of the workspace's Media sizes, so deleting an upload frees its bytes at once and nothing can
drift. `reserve` runs in the transaction that inserts the row, after taking a per-workspace lock (SQLite's
IMMEDIATE transactions already let only one writer in; PostgreSQL gets a row lock on the workspace), so two
parallel uploads can't both fit into the same remaining room.
"""

from django.conf import settings
from django.db.models import Sum

from herald.workspaces.models import Workspace

from .models import Media

MIB = 1024 * 1024


class QuotaExceeded(Exception):
    def __init__(self, limit: int, used: int, size: int):
        self.limit, self.used, self.size = limit, used, size
        super().__init__(
            f"Media storage quota exceeded: this workspace stores {used:,} bytes of uploads, its limit is "
            f"{limit:,} bytes ({limit / MIB:.1f} MB) and this file has {size:,} bytes. Delete uploads you no longer "
            "need (DELETE /api/v2/media.json?uuid=...) or ask your administrator for a larger quota."
        )


def limit_for(workspace: Workspace) -> int:
    """The workspace's own limit if it has one, else HERALD_MEDIA_QUOTA_BYTES; 0 means no limit."""
    if workspace.media_quota_bytes is not None:
        return workspace.media_quota_bytes
    return settings.MEDIA_QUOTA_BYTES


def used_bytes(workspace: Workspace) -> int:
    return Media.objects.filter(workspace=workspace).aggregate(total=Sum("size"))["total"] or 0


def check(workspace: Workspace, size: int) -> None:
    """Raise QuotaExceeded if `size` more bytes would take the workspace over its limit."""
    limit = limit_for(workspace)
    if not limit:
        return
    used = used_bytes(workspace)
    if used + size > limit:
        raise QuotaExceeded(limit, used, size)


def reserve(workspace: Workspace, size: int) -> None:
    """`check`, made exact against parallel uploads: call it inside the transaction that saves the Media row.

    The lock lasts until the outermost transaction commits (right after the insert: the file is already written),
    so uploads to one workspace take turns for the few milliseconds of the check and the insert; other workspaces
    never wait. FOR NO KEY UPDATE doesn't block rows that merely point
    at the workspace (messages, contacts) from being written meanwhile.
    """
    list(Workspace.objects.select_for_update(no_key=True).filter(pk=workspace.pk).values_list("pk"))
    check(workspace, size)
