"""Who a broadcast goes to: addressed URNs (their owners, or new contacts), addressed contacts, and the active
members of addressed groups — each contact once.

Directly addressed contacts are recipients whatever their status (a blocked one gets a failed message saying why);
group members must be active. The set is a query, walked in id order by the fan-out, never a list in memory.
"""

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from herald.contacts import urns as urn_utils
from herald.contacts.models import Contact, ContactGroup, ContactStatus, ContactURN

from .models import Broadcast


def recipients(broadcast: Broadcast) -> QuerySet:
    """The recipient contacts, as a query (creates contacts for URNs nobody owns yet; safe to call again)."""
    direct = set(broadcast.contacts.filter(is_active=True).values_list("id", flat=True))
    direct |= {contact.id for contact in contacts_for_urns(broadcast.workspace, broadcast.urns)}
    members = ContactGroup.contacts.through.objects.filter(
        contactgroup__in=broadcast.groups.filter(is_active=True)
    ).values("contact_id")
    return Contact.objects.filter(workspace=broadcast.workspace, is_active=True).filter(
        Q(id__in=direct) | Q(status=ContactStatus.ACTIVE, id__in=members)
    )


def contacts_for_urns(workspace, urn_strings: list[str]) -> list[Contact]:
    """The owner of each URN, creating a contact for each URN no active contact owns."""
    contacts = []
    for text in urn_strings:
        urn = urn_utils.parse(text)
        owned = ContactURN.objects.filter(workspace=workspace, identity=urn.identity).select_related("contact").first()
        if owned and owned.contact and owned.contact.is_active:
            contacts.append(owned.contact)
        else:
            contacts.append(_create_for_urn(workspace, urn, owned))
    return contacts


def _create_for_urn(workspace, urn, orphan: ContactURN | None) -> Contact:
    try:
        with transaction.atomic():
            contact = Contact.objects.create(workspace=workspace)
            if orphan:
                ContactURN.objects.filter(id=orphan.id).update(contact=contact)
            else:
                ContactURN.objects.create(
                    workspace=workspace,
                    contact=contact,
                    scheme=urn.scheme,
                    path=urn.path,
                    identity=urn.identity,
                    display=urn.display or None,
                )
            return contact
    except IntegrityError:
        # Another worker created the owner at the same moment: use theirs.
        return ContactURN.objects.select_related("contact").get(workspace=workspace, identity=urn.identity).contact
