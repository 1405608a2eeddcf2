"""The compose page's recipients: what a search finds (groups, contacts, a typed URN) and the label of each chosen one.

A chosen recipient travels in the form as one value, `group:<uuid>`, `contact:<uuid>` or `urn:<urn>`; the API's
serializer resolves them (`GroupRefsField`, `ContactRefsField`, `URNField`), so a value naming another workspace's
group is "No such object" there, and this module only finds and labels.

Every search is a bounded index look-up, so typing stays fast with 1,000,000 contacts:
- groups: a workspace has at most 250 (ContactGroup.MAX_PER_WORKSPACE), read through the `groups_api_order` index's
  workspace prefix and matched anywhere in the name;
- contacts by URN: a range on `(workspace, identity)`, the `urn_identity_unique` index, 10 rows;
- contacts by name: a range on `LOWER(name)` within the workspace, 10 rows in that order. No index serves it on this
  branch (see `by_name`).
"""

from dataclasses import dataclass

import phonenumbers
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from herald.api.v2.serializer_fields import as_uuid
from herald.contacts import search as contact_search
from herald.contacts import urns as urn_parser
from herald.contacts.models import Contact, ContactGroup, ContactURN
from herald.workspaces.models import Workspace

LIMIT = 10
# Longer than any name (64) or URN a person types while searching; what is beyond is not looked at.
MAX_QUERY = 100
GROUP, CONTACT, URN = "group", "contact", "urn"


@dataclass(frozen=True)
class Recipient:
    value: str  # what the form carries: "<kind>:<reference>"
    kind: str
    label: str
    detail: str = ""  # a second line: a contact's URN, "new number"

    @property
    def kind_label(self) -> str:
        return {GROUP: _("group"), CONTACT: _("contact"), URN: _("address")}[self.kind]


def split(value: str) -> tuple[str, str]:
    """(kind, reference) of a form value; anything else is taken as a URN for the API to judge."""
    kind, _, reference = value.partition(":")
    if kind in (GROUP, CONTACT, URN) and reference:
        return kind, reference
    return URN, value


def search(workspace: Workspace, query: str) -> list[Recipient]:
    """Up to LIMIT recipients for what was typed: the typed URN itself when it is one, groups, then contacts."""
    query = " ".join(query.split())[:MAX_QUERY]
    if not query:
        return []
    found = typed_urn(workspace, query) + groups_named(workspace, query)
    prefix = urn_prefix(workspace, query)
    if prefix is None:
        found += by_name(workspace, query, LIMIT)
    elif not workspace.is_anonymous:  # finding a contact by URN would tell a known number from an unknown one
        found += by_urn(workspace, prefix, LIMIT)
    unique = {r.value: r for r in found}
    return list(unique.values())[:LIMIT]


def typed_urn(workspace: Workspace, query: str) -> list[Recipient]:
    text = query if ":" in query else f"tel:{query}"
    try:
        urn = urn_parser.parse_and_normalize(text, workspace.country)
    except urn_parser.InvalidURN:
        return []
    return [Recipient(f"{URN}:{urn}", URN, str(urn), _("send to this address"))]


def groups_named(workspace: Workspace, query: str) -> list[Recipient]:
    groups = ContactGroup.objects.filter(workspace=workspace, is_active=True, name__icontains=query)
    return [group_recipient(g) for g in groups.order_by(Lower("name"), "id")[:LIMIT]]


def by_name(workspace: Workspace, query: str, limit: int) -> list[Recipient]:
    # The contacts page's search: a range of the `contacts_name_prefix` index, LIMIT rows.
    contacts = contact_search.by_name_prefix(workspace, contact_search.lowered(query))[:limit]
    return contact_recipients(workspace, list(contacts))


def urn_prefix(workspace: Workspace, query: str) -> str | None:
    """The URN identity prefix a query names: `scheme:path...` as typed, or a phone number's first digits (`+2507`,
    `2507`, or `0788` in the workspace's country); None for a name."""
    if ":" in query:
        scheme, _, path = query.partition(":")
        return f"{scheme.lower()}:{path}" if scheme.lower() in urn_parser.SCHEMES else None
    digits = "".join(c for c in query if c.isdigit())
    if not digits or any(c.isalpha() for c in query):
        return None
    if query.startswith("0") and workspace.country:
        calling_code = phonenumbers.country_code_for_region(workspace.country.upper())
        if calling_code:
            return f"tel:+{calling_code}{digits.lstrip('0')}"
    return f"tel:+{digits}"


def by_urn(workspace: Workspace, prefix: str, limit: int) -> list[Recipient]:
    # A range on (workspace_id, identity): the `urn_identity_unique` index, read in its order, LIMIT rows.
    rows = (
        ContactURN.objects.filter(
            workspace=workspace,
            identity__gte=prefix,
            identity__lt=contact_search.next_prefix(prefix),
            identity__startswith=prefix,
            contact__is_active=True,
        )
        .select_related("contact")
        .order_by("identity")[:limit]
    )
    return [contact_recipient(workspace, row.contact, row.identity) for row in rows if row.contact is not None]


def group_recipient(group: ContactGroup) -> Recipient:
    return Recipient(f"{GROUP}:{group.uuid}", GROUP, group.name)


def contact_recipient(workspace: Workspace, contact: Contact, urn: str | None) -> Recipient:
    shown_urn = "" if workspace.is_anonymous or urn is None else urn
    return Recipient(f"{CONTACT}:{contact.uuid}", CONTACT, contact.name or shown_urn or str(contact.uuid), shown_urn)


def contact_recipients(workspace: Workspace, contacts: list[Contact]) -> list[Recipient]:
    """Each contact with its preferred URN (one query for all of them)."""
    first_urn: dict[int, str] = {}
    if not workspace.is_anonymous:
        rows = ContactURN.objects.filter(contact__in=contacts).order_by("-priority", "id")
        for contact_id, identity in rows.values_list("contact_id", "identity"):
            first_urn.setdefault(contact_id, identity)
    return [contact_recipient(workspace, c, first_urn.get(c.id)) for c in contacts]


def chosen(workspace: Workspace, values: list[str]) -> list[Recipient]:
    """The chips for the values a form carried back, labelled from this workspace's rows (two queries at most). A
    value that names nothing here keeps its reference as its label; the API's answer says what is wrong with it."""
    by_kind: dict[str, list[str]] = {GROUP: [], CONTACT: [], URN: []}
    for value in values:
        kind, reference = split(value)
        by_kind[kind].append(reference)
    active_groups = ContactGroup.objects.filter(workspace=workspace, is_active=True)
    groups = {str(g.uuid): g for g in active_groups.filter(uuid__in=valid_uuids(by_kind[GROUP]))}
    contacts = Contact.objects.filter(workspace=workspace, is_active=True, uuid__in=valid_uuids(by_kind[CONTACT]))
    contact_labels = {r.value: r for r in contact_recipients(workspace, list(contacts))}
    labelled = []
    for value in dict.fromkeys(values):
        kind, reference = split(value)
        if kind == GROUP and reference in groups:
            labelled.append(group_recipient(groups[reference]))
        elif kind == CONTACT and value in contact_labels:
            labelled.append(contact_labels[value])
        else:
            labelled.append(Recipient(f"{kind}:{reference}", kind, reference))
    return labelled


def valid_uuids(references: list[str]) -> list[str]:
    """The references that are UUIDs (a lookup with anything else would be an error on PostgreSQL)."""
    return [r for r in references if as_uuid(r)]
