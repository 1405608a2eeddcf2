"""Groups' member counts: read from the rows the database triggers keep (`ContactGroupCount`, migration 0006),
never counted over the memberships. The one place groups.json's `count` and the web interface's groups list read.

A group's count is its members that aren't deleted, whatever their status (blocked contacts leave their groups;
stopped and archived ones stay in them). The triggers see every write to the memberships, to a contact's
`is_active` and deletions of contacts and groups, so the sum of a group's rows equals that count over the
memberships at every commit. On PostgreSQL each statement adds delta rows, which `squash` (run by the tick) folds
into one row per group; a read sums whatever rows there are, so it is exact before and after a fold.
"""

from django.db import connection
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from herald import db

from .models import ContactGroup, ContactGroupCount

# Groups whose deltas one tick folds: bounded, so a tick stays short however many groups changed.
SQUASH_BATCH = 100


def with_member_counts(groups: QuerySet[ContactGroup]) -> QuerySet[ContactGroup]:
    """The groups, each with `member_count`, read in the same query: a correlated sum over a handful of rows of the
    `group_counts` index per group, so a page costs the same however big its groups are."""
    rows = (
        ContactGroupCount.objects.filter(group_id=OuterRef("pk"))
        .order_by()
        .values("group_id")
        .annotate(total=Sum("count"))
        .values("total")
    )
    return groups.annotate(member_count=Coalesce(Subquery(rows), 0, output_field=IntegerField()))


def squash(limit: int = SQUASH_BATCH) -> int:
    """Fold the deltas of up to `limit` groups into their squashed rows (`db.fold_deltas`); returns how many groups
    it folded. SQLite keeps squashed rows only: nothing to do."""
    if connection.vendor != "postgresql":
        return 0
    return db.fold_deltas("contacts_contactgroupcount", "group_id", (), limit)
