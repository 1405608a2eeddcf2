"""Loading a batch of recipients: the contacts the fan-out writes messages for at once, with their URNs (and group
names), as plain tuples and dataclasses rather than model instances. A batch costs one query for the contacts with
their URNs (joined) and, when a template mentions groups, one for their memberships.
"""

from dataclasses import dataclass
from typing import Any, NamedTuple

from django.core.exceptions import EmptyResultSet
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


# The contact's columns read: the first fields of a Recipient.
RECIPIENT_COLUMNS = ("id", "uuid", "name", "language", "status", "fields", "created_on")


def load_batch(contacts: QuerySet[Contact], with_groups: bool) -> list[Recipient]:
    """The contacts of `contacts` (a batch's worth, ordered by id) as recipients, with their URNs (and group names
    if `with_groups`)."""
    recipients = _with_urns(contacts)
    if with_groups and recipients:
        # The batch's ids go to the next query as a subquery, not as a list of a thousand parameters.
        _add_group_names(recipients, ContactIds.of(recipients, contacts.values("id")))
    return recipients


def _with_urns(contacts: QuerySet[Contact]) -> list[Recipient]:
    """One query: the batch's contacts (a subquery, with its own order and limit) joined with their URNs, read
    with Django's own conversions for the contact's columns (uuid, JSON, datetime as each database stores them)."""
    compiler = contacts.values_list(*RECIPIENT_COLUMNS).query.get_compiler(using=contacts.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # e.g. `id__in` an empty list: Django answers that without asking the database
        return []
    converters = [
        (index, converter, expression)
        for index, (functions, expression) in compiler.get_converters([c[0] for c in compiler.select]).items()
        for converter in functions
    ]
    connection = compiler.connection
    with connection.cursor() as cursor:
        cursor.execute(_JOINED_URNS.format(contacts=sql, urns=connection.ops.quote_name(ContactURN._meta.db_table)),
                       params)  # fmt: skip
        rows = cursor.fetchall()
    recipients: list[Recipient] = []
    last = None
    for row in rows:
        if row[0] != last:
            last = row[0]
            contact = list(row[:CONTACT_WIDTH])
            for index, converter, expression in converters:
                contact[index] = converter(contact[index], expression, connection)
            contact_id, contact_uuid, name, language, status, fields, created_on = contact  # RECIPIENT_COLUMNS
            recipients.append(Recipient(contact_id, contact_uuid, name, language, status, fields, created_on, [], None))
        if row[CONTACT_WIDTH] is not None:  # no URN: the LEFT JOIN's empty row
            recipients[-1].urns.append(RecipientURN._make(row[CONTACT_WIDTH:]))
    return recipients


CONTACT_WIDTH = len(RECIPIENT_COLUMNS)
# URNs highest priority first, as routing and @urns read them. The contacts' columns keep the names they have in
# the subquery; a batch is small, so each database looks its URNs up by contact id.
_JOINED_URNS = (
    "SELECT c.*, u.id, u.scheme, u.path, u.identity, u.priority, u.channel_id FROM ({contacts}) c"
    " LEFT JOIN {urns} u ON u.contact_id = c.id ORDER BY c.id, u.priority DESC, u.id"
)


class ContactIds(NamedTuple):
    """A batch's contacts, for the queries that read their URNs and groups: its `first` and `last` id, and the ids
    themselves (a list, or a subquery; None when the range holds hardly anyone else)."""

    first: int
    last: int
    ids: object

    @classmethod
    def of(cls, rows: list[Recipient], ids: object) -> "ContactIds":
        first, last = rows[0].id, rows[-1].id
        # A range read is one stretch of an index, cheaper than matching ids; but where the batch's contacts are
        # spread thin (a small group in a big workspace) the range alone would read everyone in between.
        return cls(first, last, None if last - first < 2 * len(rows) else ids)

    def lookup(self, field: str = "contact_id") -> dict[str, Any]:
        lookup: dict[str, Any] = {f"{field}__gte": self.first, f"{field}__lte": self.last}
        if self.ids is not None:
            lookup[f"{field}__in"] = self.ids
        return lookup


def _add_group_names(recipients: list[Recipient], ids: "ContactIds") -> None:
    groups: dict[int, list[str]] = {recipient.id: [] for recipient in recipients}
    memberships = ContactGroup.contacts.through.objects.filter(**ids.lookup()).order_by("contactgroup_id")
    for contact_id, name in memberships.values_list("contact_id", "contactgroup__name"):
        if contact_id in groups:  # the range may hold a few contacts that aren't in the batch
            groups[contact_id].append(name)
    for recipient in recipients:
        recipient.group_names = groups[recipient.id]
