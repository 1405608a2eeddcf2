"""Small factories for tests: rows made directly, so a test reads as the situation it sets up.

Plain functions rather than fixtures, so any test module can import them (`from herald.testing.factories import
...`). Contacts are made through `herald.contacts.writes`, the path the API and the importer take, so a factory's
contact is one the product could have made.
"""

from collections.abc import Sequence
from dataclasses import fields as dataclass_fields
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from herald.contacts import urns as urn_parser
from herald.contacts import writes
from herald.contacts.models import Contact, ContactGroup
from herald.media.models import Media
from herald.msgs.models import Broadcast, Msg
from herald.workspaces.models import APIToken, Membership, Role

# What `writes.create_contact` sets itself (name, language, status, fields, groups); anything else a test gives
# (e.g. is_active=False, a created_on) is written onto the row afterwards.
_WRITABLE = {field.name for field in dataclass_fields(writes.ContactChanges)} - {"contact", "urns"}


def make_contact(workspace, name: str | None = None, urns: Sequence[str] = (), **fields) -> Contact:
    """A contact with these URNs (normalised with the workspace's country), highest priority first."""
    changes = {key: fields.pop(key) for key in list(fields) if key in _WRITABLE}
    normalised = [urn_parser.parse_and_normalize(text, workspace.country) for text in urns]
    with transaction.atomic():
        contact = writes.create_contact(workspace, name=name, urns=normalised, **changes)
    if fields:
        Contact.objects.filter(pk=contact.pk).update(**fields)
        contact.refresh_from_db()
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


def create_user_token(workspace, role: str = "admin", email: str | None = None) -> tuple:
    """A user with `role` in `workspace` and a fresh API key for it: (user, key)."""
    email = email or f"{role}-{workspace.pk}@example.com"
    user, _ = get_user_model().objects.get_or_create(username=email, defaults={"email": email})
    Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": Role.from_name(role)})
    _, key = APIToken.create_for(workspace, user)
    return user, key


# A password the validators accept (settings.AUTH_PASSWORD_VALIDATORS), for the web interface's test users.
TEST_PASSWORD = "correct horse battery staple"


def create_web_user(workspace, role: str = "admin", email: str | None = None, password: str = TEST_PASSWORD):
    """A user with `role` in `workspace` who signs in to the web interface with `email` and `password`."""
    email = email or f"{role}-{workspace.pk}@example.com"
    user, _ = get_user_model().objects.get_or_create(username=email, defaults={"email": email})
    user.set_password(password)
    user.save()
    Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": Role.from_name(role)})
    return user
