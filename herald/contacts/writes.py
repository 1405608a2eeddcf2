"""Every change to contacts goes through here: the API (one contact at a time, or up to a hundred through
`contact_actions.json`) and the CSV importer (a thousand at a time) call the same functions, so all follow the
same rules.

The work is done in bulk whatever the number of contacts: a fixed handful of queries per call, never one per
contact. Callers validate first (URNs normalised with `herald.contacts.urns`, field keys known, languages valid)
and wrap the call in a transaction.
"""

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from herald.db import update_rows

from . import urns as urn_utils
from .models import Contact, ContactGroup, ContactStatus, ContactStatusChange, ContactURN, StatusReason


class _Unset(enum.Enum):
    """Marks a value the caller didn't give (distinct from None, which clears a name or language). An enum's one
    member, so that `is not UNSET` narrows the type."""

    UNSET = "UNSET"

    def __repr__(self):
        return "UNSET"


UNSET: Final = _Unset.UNSET

# The first URN of a contact gets this priority, the next one less, and so on (higher is preferred for sending).
TOP_PRIORITY = 1000

Membership = ContactGroup.contacts.through


class URNInUse(Exception):
    """URNs of a write belong to another (active) contact; `indexes` are their positions in the list given."""

    message = "URN is in use by another contact."

    def __init__(self, indexes: list[int]):
        super().__init__(self.message)
        self.indexes = indexes


@dataclass(eq=False)  # compared and hashed by identity: two new contacts with the same data are two contacts
class ContactChanges:
    """What to write for one contact: `contact=None` creates one. Anything left UNSET / None stays as it is."""

    contact: Contact | None = None
    name: str | _Unset | None = UNSET
    language: str | _Unset | None = UNSET
    status: str | _Unset = UNSET
    # Merged into the contact's values; a None or "" value removes that key.
    fields: dict[str, str | None] | None = None
    # Normalised URNs (strings or `urns.URN`s), the preferred one first.
    urns: list[str | urn_utils.URN] | None = None
    groups: list[ContactGroup] | None = None


def create_contact(workspace, **changes) -> Contact:
    return save_contacts(workspace, [ContactChanges(**changes)])[0]


def update_contact(contact: Contact, **changes) -> Contact:
    return save_contacts(contact.workspace, [ContactChanges(contact=contact, **changes)])[0]


def save_contacts(workspace, changes: list[ContactChanges], *, merge: bool = False) -> list[Contact]:
    """Create and update contacts in bulk; returns the contacts in the order of `changes`.

    With `merge=False` (the API) `urns` and `groups` replace what a contact had; with `merge=True` (the importer)
    they are added to it, the given URNs becoming the preferred ones. Raises URNInUse when a URN belongs to
    another contact (check first with `urns_in_use` to report it nicely).
    """
    now = timezone.now()
    created, updated, contacts = [], [], []
    for change in changes:
        if change.contact is None:
            change.contact = Contact(workspace=workspace, created_on=now)
            created.append(change.contact)
        else:
            updated.append(change.contact)
        contacts.append(change.contact)
        _apply_attributes(change.contact, change, now)

    Contact.objects.bulk_create(created)
    update_rows(Contact, updated, ["name", "language", "status", "fields", "modified_on"])

    with_urns = {contact: c.urns for contact, c in zip(contacts, changes, strict=True) if c.urns is not None}
    if with_urns:
        set_urns(workspace, with_urns, merge=merge, touched=True)
    with_groups = {contact: c.groups for contact, c in zip(contacts, changes, strict=True) if c.groups is not None}
    if with_groups:
        set_groups(with_groups, merge=merge, touched=True)
    return contacts


def _apply_attributes(contact: Contact, change: ContactChanges, now) -> None:
    if change.name is not UNSET:
        contact.name = change.name
    if change.language is not UNSET:
        contact.language = change.language
    if change.status is not UNSET:
        contact.status = change.status
    if change.fields:
        values = dict(contact.fields or {})
        for key, value in change.fields.items():
            if value is None or value == "":
                values.pop(key, None)
            else:
                values[key] = value
        contact.fields = values
    contact.modified_on = now


def urn_owners(workspace, identities) -> dict[str, int | None]:
    """identity → id of the active contact owning it (None when the URN exists but nobody owns it)."""
    rows = ContactURN.objects.filter(workspace=workspace, identity__in=set(identities)).values_list(
        "identity", "contact_id", "contact__is_active"
    )
    return {identity: (contact_id if active else None) for identity, contact_id, active in rows}


def urns_in_use(workspace, urn_list: list, contact: Contact | None = None) -> list[int]:
    """Positions of the URNs that belong to an active contact other than `contact`."""
    identities = [as_urn(urn).identity for urn in urn_list]
    owners = urn_owners(workspace, identities)
    mine = contact.id if contact else None
    return [i for i, identity in enumerate(identities) if owners.get(identity) not in (None, mine)]


def set_urns(workspace, urns_by_contact: dict[Contact, list], *, merge=False, touched=False) -> None:
    """Give each contact its URNs in priority order (list order); URNs it loses are detached, not deleted, so
    another contact can take them later. `merge` keeps its other URNs, after the given ones."""
    parsed = {contact: _unique_urns(urn_list) for contact, urn_list in urns_by_contact.items()}
    identities = {urn.identity for urns in parsed.values() for urn in urns}
    existing = {
        row.identity: row
        for row in ContactURN.objects.filter(workspace=workspace, identity__in=identities).select_related("contact")
    }
    current = defaultdict(list)
    for row in ContactURN.objects.filter(contact__in=[c for c in parsed if c.pk]).order_by("-priority", "id"):
        # One object per row, so a URN moving between two of these contacts is written once.
        current[row.contact_id].append(existing.get(row.identity, row))

    # URNs that contacts of this write give up are free for the others in it (e.g. two contacts swapping).
    released = set()
    if not merge:
        for contact, urns in parsed.items():
            wanted = {urn.identity for urn in urns}
            released |= {row.identity for row in current[contact.pk] if row.identity not in wanted}

    to_create: list[ContactURN] = []
    to_update: dict[int, ContactURN] = {}
    conflicts: list[int] = []
    claimed: dict[str, Contact] = {}
    for contact, urns in parsed.items():
        for index, urn in enumerate(urns):
            if claimed.setdefault(urn.identity, contact) is not contact:
                conflicts.append(index)
                continue
            priority = TOP_PRIORITY - index
            known = existing.get(urn.identity)
            if known is None:
                to_create.append(
                    ContactURN(
                        workspace=workspace,
                        contact=contact,
                        scheme=urn.scheme,
                        path=urn.path,
                        identity=urn.identity,
                        display=urn.display or None,
                        priority=priority,
                    )
                )
                continue
            owned_elsewhere = known.contact is not None and known.contact_id != contact.pk and known.contact.is_active
            if owned_elsewhere and known.identity not in released:
                conflicts.append(index)
            display = urn.display or known.display
            if (known.contact_id, known.priority, known.display) != (contact.pk, priority, display):
                known.contact, known.priority, known.display = contact, priority, display
                to_update[known.pk] = known

    # Then the URNs each contact had but wasn't given (unless another contact just took them).
    for contact, urns in parsed.items():
        wanted = {urn.identity for urn in urns}
        others = [row for row in current[contact.pk] if row.identity not in wanted and row.contact_id == contact.pk]
        for offset, row in enumerate(others, start=len(urns)):
            if not merge:
                row.contact = None
            elif row.priority != TOP_PRIORITY - offset:
                row.priority = TOP_PRIORITY - offset
            else:
                continue
            to_update[row.pk] = row

    if conflicts:
        raise URNInUse(conflicts)
    ContactURN.objects.bulk_create(to_create)
    update_rows(ContactURN, list(to_update.values()), ["contact", "priority", "display"])
    if not touched:
        _touch(parsed)


def as_urn(urn: str | urn_utils.URN) -> urn_utils.URN:
    return urn if isinstance(urn, urn_utils.URN) else urn_utils.parse(urn)


def _unique_urns(urn_list: list) -> list[urn_utils.URN]:
    seen, unique = set(), []
    for urn in map(as_urn, urn_list):
        if urn.identity not in seen:
            seen.add(urn.identity)
            unique.append(urn)
    return unique


def set_groups(groups_by_contact: dict[Contact, list[ContactGroup]], *, merge=False, touched=False) -> None:
    """Make each contact a member of exactly these groups (with `merge`, of these groups as well)."""
    wanted = {contact.pk: {group.pk for group in groups} for contact, groups in groups_by_contact.items()}
    if not merge:
        stale = [
            membership_id
            for membership_id, contact_id, group_id in Membership.objects.filter(contact_id__in=wanted).values_list(
                "id", "contact_id", "contactgroup_id"
            )
            if group_id not in wanted[contact_id]
        ]
        Membership.objects.filter(id__in=stale).delete()
    Membership.objects.bulk_create(
        [
            Membership(contact_id=contact_id, contactgroup_id=group_id)
            for contact_id, group_ids in wanted.items()
            for group_id in group_ids
        ],
        ignore_conflicts=True,
    )
    if not touched:
        _touch(groups_by_contact)


def delete_contact(contact: Contact) -> None:
    delete_contacts([contact])


def delete_contacts(contacts: list[Contact]) -> None:
    """Soft delete: the rows stay for the history of what was sent to them, but they own no URN and are in no
    group. Raises ContactsGone if one of them was deleted already."""
    ids = list(_lock_active(contacts))
    now = timezone.now()
    Contact.objects.filter(id__in=ids).update(is_active=False, modified_on=now)
    ContactURN.objects.filter(contact_id__in=ids).update(contact=None)
    Membership.objects.filter(contact_id__in=ids).delete()
    for contact in contacts:
        contact.is_active, contact.modified_on = False, now


# Bulk actions (`contact_actions.json`). Each changes only what it names: adding contacts to a group inserts their
# membership rows and never rewrites their other groups, so two scripts changing one contact's groups at once both
# keep their change. Each locks the rows it acts on, always in one order (the group, then the contacts by id), and
# reads the contacts' status under that lock, so a contact blocked or deleted meanwhile is seen as such.


class ContactsGone(Exception):
    """Contacts of an action were deleted after they were looked up; `uuids` lists them."""

    def __init__(self, uuids: list[str]):
        super().__init__(", ".join(uuids))
        self.uuids = uuids


class GroupGone(Exception):
    """The group of an action was deleted after it was looked up."""


class CantJoinGroups(Exception):
    """Contacts that aren't active (blocked, stopped or archived) can't be added to groups; `uuids` lists them."""

    def __init__(self, uuids: list[str]):
        super().__init__(", ".join(uuids))
        self.uuids = uuids


def add_to_group(group: ContactGroup, contacts: list[Contact]) -> None:
    """Make the contacts members of `group` as well. Raises CantJoinGroups, adding nobody, if any of them isn't
    active."""
    _lock_group(group)
    statuses = _lock_active(contacts)
    refused = [str(contact.uuid) for contact in contacts if statuses[contact.pk] != ContactStatus.ACTIVE]
    if refused:
        raise CantJoinGroups(refused)
    members = set(
        Membership.objects.filter(contactgroup=group, contact_id__in=statuses).values_list("contact_id", flat=True)
    )
    joining = [contact_id for contact_id in statuses if contact_id not in members]
    Membership.objects.bulk_create(
        [Membership(contact_id=contact_id, contactgroup_id=group.pk) for contact_id in joining], ignore_conflicts=True
    )
    _touch_ids(joining)


def remove_from_group(group: ContactGroup, contacts: list[Contact]) -> None:
    """Take the contacts out of `group`; those not in it stay as they are."""
    _lock_group(group)
    ids = list(_lock_active(contacts))
    leaving = Membership.objects.filter(contactgroup=group, contact_id__in=ids)
    left = list(leaving.values_list("contact_id", flat=True))
    leaving.delete()
    _touch_ids(left)


def block(contacts: list[Contact], *, by: AbstractBaseUser | None = None) -> None:
    """Blocked contacts leave every group, so no group's broadcast reaches them, and a message addressed to one of
    them directly fails saying so (`msgs/compose.py`). `by`: who did it, kept in the status log."""
    ids = set_status(contacts, ContactStatus.BLOCKED, StatusReason.BLOCKED, by=by)
    Membership.objects.filter(contact_id__in=ids).delete()


def unblock(contacts: list[Contact], *, by: AbstractBaseUser | None = None) -> None:
    """The contacts become active (stopped ones too, as RapidPro's status change does); they rejoin no group."""
    set_status(contacts, ContactStatus.ACTIVE, StatusReason.UNBLOCKED, by=by)


def set_status(
    contacts: list[Contact],
    status: str,
    reason: str,
    *,
    only_from: tuple[str, ...] = (),
    by: AbstractBaseUser | None = None,
) -> list[int]:
    """Give the contacts this status, recording when, why and by whom for those that change (those that have it
    already are left untouched; with `only_from`, so are those whose status is not one of these); returns all their
    ids. Locks their rows: call it inside a transaction."""
    statuses = _lock_active(contacts)
    changing = [
        contact_id
        for contact_id, current in statuses.items()
        if current != status and (not only_from or current in only_from)
    ]
    if changing:
        now = timezone.now()
        Contact.objects.filter(id__in=changing).update(
            status=status, status_changed_on=now, status_reason=reason, modified_on=now
        )
        ContactStatusChange.objects.bulk_create(
            ContactStatusChange(
                contact_id=contact_id, status=status, reason=reason, created_on=now, created_by_id=by.pk if by else None
            )
            for contact_id in changing
        )
    for contact in contacts:
        if contact.pk in changing:
            contact.status = status
    return list(statuses)


# Statuses an opt-out (a stop word, a provider's stop) moves to stopped: a blocked contact stays blocked.
STOPPABLE = (ContactStatus.ACTIVE, ContactStatus.ARCHIVED)


def stop_contacts(contact_ids: Iterable[int], reason: str) -> list[int]:
    """Stop the contacts (those still there and stoppable), recording `reason`; in the caller's transaction."""
    contacts = list(Contact.objects.filter(id__in=set(contact_ids), is_active=True))
    return set_status(contacts, ContactStatus.STOPPED, reason, only_from=STOPPABLE) if contacts else []


def _lock_group(group: ContactGroup) -> None:
    if not list(ContactGroup.objects.select_for_update().filter(pk=group.pk, is_active=True).values_list("pk")):
        raise GroupGone()


def _lock_active(contacts: list[Contact]) -> dict[int, str]:
    """Lock the contacts' rows, in id order, and read their status: id → status. Raises ContactsGone if any of
    them has been deleted since the caller read it."""
    rows = Contact.objects.select_for_update().filter(id__in=[contact.pk for contact in contacts], is_active=True)
    statuses = dict(rows.order_by("id").values_list("id", "status"))
    gone = [str(contact.uuid) for contact in contacts if contact.pk not in statuses]
    if gone:
        raise ContactsGone(gone)
    return statuses


def can_join_groups(contact: Contact | None) -> bool:
    """Only active contacts (not blocked, stopped or archived) may be put in groups."""
    return contact is None or contact.status == ContactStatus.ACTIVE


def _touch(contacts) -> None:
    _touch_ids([c.pk for c in contacts])


def _touch_ids(ids: list[int]) -> None:
    if ids:
        Contact.objects.filter(id__in=ids).update(modified_on=timezone.now())
