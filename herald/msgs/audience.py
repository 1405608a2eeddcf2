"""Who a broadcast goes to: addressed URNs (their owners, or new contacts), addressed contacts, and the active
members of addressed groups — each contact once.

Directly addressed contacts are recipients whatever their status (a blocked one gets a failed message saying why);
group members must be active. The set is a query, walked in id order by the fan-out, never a list in memory.
"""

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet

from herald.contacts import urns as urn_utils
from herald.contacts.models import Contact, ContactGroup, ContactStatus
from herald.contacts.writes import ContactChanges, URNInUse, save_contacts, urn_owners
from herald.workspaces.models import Workspace

from .models import Broadcast


class Audience:
    """A broadcast's recipients, resolved once (creates contacts for URNs nobody owns yet; safe to do again).

    The fan-out walks the direct recipients (a short list) and the group members (maybe millions) as two queries:
    one query joined with OR makes databases read every member each time (PostgreSQL hashes them all), while each
    part alone reads only the id range asked for.
    """

    def __init__(self, broadcast: Broadcast):
        contacts = broadcast.contacts.filter(is_active=True).values_list("id", flat=True)
        self._resolve(broadcast.workspace, [*contacts, *contact_ids_for_urns(broadcast.workspace, broadcast.urns)])
        self.group_ids = list(broadcast.groups.filter(is_active=True).values_list("id", flat=True))

    @classmethod
    def planned(
        cls, workspace: Workspace, contacts: list[Contact], groups: list[ContactGroup], urns: list[str]
    ) -> "tuple[Audience, list[str]]":
        """The audience a broadcast to these recipients would have, with the URNs nobody owns yet, for which the
        real send would create contacts: nothing is written (a dry run, `dryrun.py`)."""
        audience = cls.__new__(cls)
        identities = [urn_utils.parse(text).identity for text in urns]
        owners = urn_owners(workspace, identities)
        owned = [owner for identity in identities if (owner := owners.get(identity)) is not None]
        audience._resolve(workspace, [c.id for c in contacts if c.is_active] + owned)
        audience.group_ids = [g.id for g in groups if g.is_active]
        unowned = [text for text, identity in zip(urns, identities, strict=True) if owners.get(identity) is None]
        return audience, unowned

    def _resolve(self, workspace: Workspace, direct_ids: list[int]) -> None:
        self.workspace = workspace
        self.direct_ids = sorted(set(direct_ids))

    def contacts(self) -> QuerySet[Contact]:
        """Every recipient, as one query (to count them, or to ask whether any is left)."""
        return self.direct() | self.members()

    def direct(self, after: int = 0, upto: int | None = None) -> QuerySet[Contact]:
        """Directly addressed recipients with `after < id <= upto`."""
        ids = [i for i in self.direct_ids if i > after and (upto is None or i <= upto)]
        return self._active(after, upto).filter(id__in=ids)

    def members(self, after: int = 0, upto: int | None = None) -> QuerySet[Contact]:
        """Active members of the addressed groups with `after < id <= upto`."""
        if not self.group_ids:  # no query at all for a broadcast to contacts or URNs only (most small ones)
            return Contact.objects.none()
        memberships = ContactGroup.contacts.through.objects.filter(
            contactgroup_id__in=self.group_ids, contact_id=OuterRef("id")
        )
        # The id bounds again inside: PostgreSQL then starts its scan of the memberships at `after` too.
        memberships = memberships.filter(contact_id__gt=after)
        if upto is not None:
            memberships = memberships.filter(contact_id__lte=upto)
        return self._active(after, upto).filter(Exists(memberships), status=ContactStatus.ACTIVE)

    def left_out(self) -> QuerySet[Contact]:
        """Members of the addressed groups that get nothing because they aren't active (stopped or archived ones:
        blocked contacts leave their groups), the directly addressed aside (they are recipients)."""
        if not self.group_ids:
            return Contact.objects.none()
        memberships = ContactGroup.contacts.through.objects.filter(
            contactgroup_id__in=self.group_ids, contact_id=OuterRef("id")
        )
        members = Contact.objects.filter(workspace=self.workspace, is_active=True).filter(Exists(memberships))
        return members.exclude(status=ContactStatus.ACTIVE).exclude(id__in=self.direct_ids)

    def _active(self, after: int, upto: int | None) -> QuerySet[Contact]:
        contacts = Contact.objects.filter(workspace=self.workspace, is_active=True, id__gt=after)
        return contacts if upto is None else contacts.filter(id__lte=upto)


def contact_ids_for_urns(workspace: Workspace, urn_strings: list[str]) -> list[int]:
    """The active owner of each URN, creating a contact for each URN that no active contact owns."""
    identities = [urn_utils.parse(text).identity for text in urn_strings]
    owners = urn_owners(workspace, identities)
    unowned = [text for text, identity in zip(urn_strings, identities, strict=True) if owners.get(identity) is None]
    if unowned:
        try:
            with transaction.atomic():
                save_contacts(workspace, [ContactChanges(urns=[text]) for text in unowned])
        except (IntegrityError, URNInUse):
            pass  # another worker created these owners at the same moment: use theirs
        owners = urn_owners(workspace, identities)
    # Each has an owner now; one deactivated since by someone else is no recipient.
    return [owner for identity in identities if (owner := owners[identity]) is not None]
