"""Archiving a contact's messages (`contact_actions.json`, action `archive_messages`): as RapidPro's
`Msg.archive_all_for_contacts` (`temba/msgs/models.py`), the visible incoming messages move to the archived folder;
outgoing ones are left where they are."""

from collections.abc import Iterable

from django.utils import timezone

from .models import Msg, MsgDirection, MsgVisibility


def archive_incoming(contact_ids: Iterable[int]) -> int:
    """Archive the visible incoming messages of these contacts, in one statement; returns how many."""
    visible = Msg.objects.filter(
        contact_id__in=list(contact_ids), direction=MsgDirection.IN, visibility=MsgVisibility.VISIBLE
    )
    return visible.update(visibility=MsgVisibility.ARCHIVED, modified_on=timezone.now())
