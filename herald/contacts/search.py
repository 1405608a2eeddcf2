"""Finding contacts by what a person types: the start of a name, or one of their URNs (a phone number alone is a
`tel:` URN in the workspace's country). Each is one indexed lookup, whatever the number of contacts: the name
range of the `contacts_name_prefix` index, or the unique URN identity.
"""

import re
import string
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from . import urns
from .models import Contact, ContactURN, NameKey

# What reads as a phone number rather than a name: digits, maybe a leading +, spaces, dashes, dots or brackets.
_PHONE_NUMBER = re.compile(r"\+?[\d\s().-]{5,}")
# Longer than any URN a person types or any name.
MAX_QUERY_LENGTH = urns.MAX_LENGTH


@dataclass(frozen=True)
class Search:
    """What was typed, read: a URN to look up, else the start of a name (lower case)."""

    urn: urns.URN | None = None
    name_prefix: str = ""


def read_query(text: str, workspace) -> Search:
    """An anonymous workspace never searches by URN: its users must not learn who has a number."""
    # No name is longer, and a null character can't be compared with text (PostgreSQL refuses it).
    text = text.replace("\0", "").strip()[:MAX_QUERY_LENGTH]
    if not workspace.is_anonymous:
        urn = _as_urn(text, workspace.country)
        if urn is not None:
            return Search(urn=urn)
    return Search(name_prefix=lowered(text))


def _as_urn(text: str, country: str) -> urns.URN | None:
    scheme, colon, _ = text.partition(":")
    if colon and scheme.lower() in urns.SCHEMES:
        candidate = text
    elif _PHONE_NUMBER.fullmatch(text):
        candidate = "tel:" + text
    else:
        return None
    try:
        return urns.parse_and_normalize(candidate, country)
    except urns.InvalidURN:
        return None


def active_contacts(workspace) -> QuerySet[Contact]:
    return Contact.objects.filter(workspace=workspace, is_active=True)


def with_urn(workspace, urn: urns.URN) -> QuerySet[Contact]:
    """The contact owning this URN (none or one)."""
    owner = ContactURN.objects.filter(workspace=workspace, identity=urn.identity).values("contact_id")
    return active_contacts(workspace).filter(id__in=owner)


def with_name_key(contacts: QuerySet[Contact]):  # annotated: the type checker follows `name_key` through it
    """Each contact with its `name_key`: its name as the name search compares it, computed by the database."""
    return contacts.annotate(name_key=NameKey("name"))


# The name search's order, the `contacts_name_prefix` index's: a page goes on after the last contact's (key, id).
NAME_ORDER = ("name_key", "id")


def by_name_prefix(workspace, prefix: str) -> QuerySet[Contact]:
    """Contacts whose name starts with `prefix` (not empty, lowered by `lowered`), in NAME_ORDER."""
    found = with_name_key(active_contacts(workspace)).filter(name_key__gte=prefix, name_key__lt=next_prefix(prefix))
    return found.order_by(*NAME_ORDER)


def next_prefix(prefix: str) -> str:
    """The first text after every text starting with `prefix`, in code point order: "ab" → "ac"."""
    following = ord(prefix[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are no text: step over them
        following = 0xE000
    if following > 0x10FFFF:  # the last code point: no character comes after it
        return prefix + chr(0x10FFFF)
    return prefix[:-1] + chr(following)


def lowered(text: str) -> str:
    """`text` lowered as the database's LOWER() does it: PostgreSQL's lowers every letter, SQLite's ASCII only."""
    if connection.vendor == "postgresql":
        return text.lower()
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
