"""Small factories for tests: rows made directly, so a test reads as the situation it sets up.

Plain functions rather than fixtures, so any test module can import them (`from herald.testing import ...`).
"""

from collections.abc import Sequence
from datetime import datetime

from herald.contacts import urns as urn_parser
from herald.contacts.models import Contact, ContactGroup, ContactURN
from herald.media.models import Media
from herald.msgs.models import Broadcast, Msg


def make_contact(workspace, name: str | None = None, urns: Sequence[str] = (), **fields) -> Contact:
    """A contact with these URNs (normalised with the workspace's country), highest priority first."""
    contact = Contact.objects.create(workspace=workspace, name=name, **fields)
    for priority, text in enumerate(reversed(urns)):
        urn = urn_parser.parse_and_normalize(text, workspace.country)
        ContactURN.objects.create(
            workspace=workspace,
            contact=contact,
            scheme=urn.scheme,
            path=urn.path,
            identity=urn.identity,
            display=urn.display or None,
            priority=1000 + priority,
        )
    return contact


def make_group(workspace, name: str, contacts: Sequence[Contact] = (), **fields) -> ContactGroup:
    group = ContactGroup.objects.create(workspace=workspace, name=name, **fields)
    group.contacts.add(*contacts)
    return group


def make_media(workspace, filename: str = "photo.jpg", content_type: str = "image/jpeg") -> Media:
    """A media row whose URL contains its UUID, like an upload's (no file is written)."""
    media = Media(workspace=workspace, content_type=content_type, filename=filename, size=1024)
    prefix = f"orgs/{workspace.pk}/media/{str(media.uuid)[:4]}/{media.uuid}/{filename}"
    media.path = prefix
    media.url = f"http://testserver/media/{prefix}"
    media.save()
    return media


def make_broadcast(
    workspace,
    text: str | dict = "Hello",
    contacts: Sequence[Contact] = (),
    groups: Sequence[ContactGroup] = (),
    created_on: datetime | None = None,
    **fields,
) -> Broadcast:
    """A broadcast as the API stores it; `text` may be a string (under `eng`) or a full translations dict."""
    translations = {"eng": {"text": text}} if isinstance(text, str) else text
    fields.setdefault("base_language", next(iter(translations)))
    if created_on is not None:
        fields["created_on"] = created_on
    broadcast = Broadcast.objects.create(workspace=workspace, translations=translations, **fields)
    broadcast.contacts.add(*contacts)
    broadcast.groups.add(*groups)
    return broadcast


def make_msg(contact: Contact, text: str = "Hello", created_on: datetime | None = None, **fields) -> Msg:
    """An outgoing message to `contact` through its highest-priority URN (if any)."""
    fields.setdefault("contact_urn", contact.urns.order_by("-priority", "id").first())
    if created_on is not None:
        fields["created_on"] = created_on
    return Msg.objects.create(workspace=contact.workspace, contact=contact, text=text, **fields)
