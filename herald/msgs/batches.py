"""Loading a batch of recipients: the contacts the fan-out writes messages for at once, with their URNs (and group
names), as plain tuples and dataclasses rather than model instances. A batch costs one query for the contacts, one
for their URNs and, when a template mentions groups, one for their memberships.
"""

from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db.models import QuerySet

from herald.contacts.models import Contact, ContactGroup, ContactStatus, ContactURN

STATUS_LABELS = dict(ContactStatus.choices)


class RecipientURN(NamedTuple):
    """The parts of a ContactURN that routing and templates read."""

    id: int
    scheme: str
    path: str
    identity: str
    priority: int
    channel_id: int | None


@dataclass(slots=True)
class Recipient:
    """A contact as the fan-out needs it: read with `values_list`, far cheaper than a model instance."""

    id: int
    uuid: object
    name: str | None
    language: str | None
    status: str
    fields: dict[str, Any]
    created_on: object
    urns: list[RecipientURN]  # highest priority first
    group_names: list[str] | None  # only read when a template mentions groups

    def get_status_display(self) -> str:
        return STATUS_LABELS[self.status]


# One contact read as RECIPIENT_COLUMNS: the first fields of a Recipient.
Row = tuple[int, object, str | None, str | None, str, dict[str, Any], object]
RECIPIENT_COLUMNS = ("id", "uuid", "name", "language", "status", "fields", "created_on")


def load_batch(contacts: QuerySet[Contact], with_groups: bool) -> list[Recipient]:
    """The contacts of `contacts` (a batch's worth, ordered by id) as recipients, with their URNs (and group names
    if `with_groups`)."""
    rows = list(contacts.values_list(*RECIPIENT_COLUMNS))
    if not rows:
        return []
    # The batch's ids go to the next queries as a subquery, not as a list of a thousand parameters.
    return with_urns(rows, ContactIds.of(rows, contacts.values("id")), with_groups)


class ContactIds(NamedTuple):
    """A batch's contacts, for the queries that read their URNs and groups: its `first` and `last` id, and the ids
    themselves (a list, or a subquery; None when the range holds hardly anyone else)."""

    first: int
    last: int
    ids: object

    @classmethod
    def of(cls, rows: list[Row], ids: object) -> "ContactIds":
        first, last = rows[0][0], rows[-1][0]
        # A range read is one stretch of an index, cheaper than matching ids; but where the batch's contacts are
        # spread thin (a small group in a big workspace) the range alone would read everyone in between.
        return cls(first, last, None if last - first < 2 * len(rows) else ids)

    def lookup(self, field: str = "contact_id") -> dict[str, Any]:
        lookup: dict[str, Any] = {f"{field}__gte": self.first, f"{field}__lte": self.last}
        if self.ids is not None:
            lookup[f"{field}__in"] = self.ids
        return lookup


def with_urns(rows: list[Row], ids: ContactIds, with_groups: bool) -> list[Recipient]:
    """Contacts read as RECIPIENT_COLUMNS rows (in id order), with their URNs (and group names)."""
    urns: dict[int, list[RecipientURN]] = {row[0]: [] for row in rows}
    urn_rows = (
        ContactURN.objects.filter(**ids.lookup())
        .order_by("-priority", "id")
        .values_list("contact_id", "id", "scheme", "path", "identity", "priority", "channel_id")
    )
    for contact_id, *urn in urn_rows:
        if contact_id in urns:  # the range may hold a few contacts that aren't in the batch
            urns[contact_id].append(RecipientURN._make(urn))
    groups: dict[int, list[str]] | None = None
    if with_groups:
        groups = {row[0]: [] for row in rows}
        memberships = ContactGroup.contacts.through.objects.filter(**ids.lookup()).order_by("contactgroup_id")
        for contact_id, name in memberships.values_list("contact_id", "contactgroup__name"):
            if contact_id in groups:
                groups[contact_id].append(name)
    return [Recipient(*row, urns[row[0]], groups[row[0]] if groups is not None else None) for row in rows]
