"""Who a broadcast goes to: addressed URNs (their owners, or new contacts), addressed contacts, and the active
members of addressed groups — each contact once.

Directly addressed contacts are recipients whatever their status (a blocked one gets a failed message saying why);
group members must be active. The set is a query, walked in id order by the fan-out, never a list in memory.
"""

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from herald.contacts import urns as urn_utils
from herald.contacts.models import Contact, ContactGroup, ContactStatus
from herald.contacts.writes import ContactChanges, URNInUse, save_contacts, urn_owners

from .models import Broadcast


def recipients(broadcast: Broadcast) -> QuerySet:
    """The recipient contacts, as a query (creates contacts for URNs nobody owns yet; safe to call again)."""
    direct = set(broadcast.contacts.filter(is_active=True).values_list("id", flat=True))
    direct |= set(contact_ids_for_urns(broadcast.workspace, broadcast.urns))
    members = ContactGroup.contacts.through.objects.filter(
        contactgroup__in=broadcast.groups.filter(is_active=True)
    ).values("contact_id")
    return Contact.objects.filter(workspace=broadcast.workspace, is_active=True).filter(
        Q(id__in=direct) | Q(status=ContactStatus.ACTIVE, id__in=members)
    )


def contact_ids_for_urns(workspace, urn_strings: list[str]) -> list[int]:
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
    return [owners[identity] for identity in identities]
