"""A broadcast's content, from the POST to each contact's message: stored once (`msgs/content.py`), read back per
language by the API, chosen per contact by the fan-out."""

import pytest

from herald.msgs import tasks
from herald.msgs.models import Broadcast, Msg
from herald.testing.factories import make_contact, make_media

pytestmark = pytest.mark.django_db


def test_each_part_comes_from_the_first_language_of_the_contact_that_has_it(admin, workspace):
    picture = make_media(workspace)
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"], language="fra")
    bob = make_contact(workspace, "Bob", ["tel:+250788222222"], language="kin")  # no kin content at all
    replies = [{"type": "text", "text": "Oui"}]
    body = {
        "contacts": [str(ann.uuid), str(bob.uuid)],
        "text": {"eng": "Hello", "fra": "Bonjour"},
        "attachments": {"eng": [str(picture.uuid)]},
        "quick_replies": {"fra": replies},
    }
    response = admin.post("/api/v2/broadcasts.json", body, format="json")
    assert response.status_code == 201, response.json()
    shown = {key: response.json()[key] for key in ("text", "attachments", "quick_replies")}
    assert shown == {
        "text": {"eng": "Hello", "fra": "Bonjour"},
        "attachments": {"eng": [picture.attachment], "fra": []},
        "quick_replies": {"eng": [], "fra": replies},
    }

    tasks.start_broadcast(Broadcast.objects.get().id)
    got = {m.contact_id: (m.text, m.locale, m.attachments, m.quick_replies) for m in Msg.objects.all()}
    # Ann: her language's text and replies, the base language's picture. Bob: the workspace's primary language.
    assert got == {
        ann.id: ("Bonjour", "fra", [picture.attachment], replies),
        bob.id: ("Hello", "eng", [picture.attachment], []),
    }
