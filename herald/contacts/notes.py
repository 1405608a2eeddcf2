"""Notes on contacts: written one at a time (the API's `note`), each contact keeping its most recent few."""

from django.db.models import Prefetch, QuerySet

from .models import Contact, ContactNote


def add_note(contact: Contact, text: str, author) -> ContactNote:
    """Add a note by `author` (a user, or None) and forget the contact's notes beyond the ContactNote.KEPT newest.
    Call it inside the transaction that writes the contact."""
    note = ContactNote.objects.create(contact=contact, text=text, created_by=author)
    older = ContactNote.objects.filter(contact=contact).order_by("-id").values_list("id", flat=True)[ContactNote.KEPT :]
    ContactNote.objects.filter(id__in=list(older)).delete()
    return note


def prefetch_notes() -> Prefetch:
    """For a page of contacts: each one's notes, oldest first, with their authors, in one query for the page."""
    notes: QuerySet[ContactNote] = ContactNote.objects.select_related("created_by").order_by("id")
    return Prefetch("notes", queryset=notes)
