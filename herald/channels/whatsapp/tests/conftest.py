"""A FakeWhatsApp on 127.0.0.1, a whatsapp channel pointed at it, and Bob, who wrote to it a minute ago."""

from datetime import timedelta

import pytest
from django.utils import timezone

from herald.channels.registry import create_channel
from herald.msgs.models import Msg, MsgDirection
from herald.testing.factories import make_contact
from herald.testing.providers.whatsapp import CONFIG


@pytest.fixture
def channel(workspace, whatsapp):
    created = create_channel(workspace, "whatsapp", "WhatsApp", config={**CONFIG, "base_url": whatsapp.base_url})
    # The credential check's GET is test_config's business; the tests here see what sending asks.
    whatsapp.requests.clear()
    return created


def wrote(contact, channel, ago: timedelta = timedelta(minutes=1)) -> None:
    """The contact wrote on the channel `ago`: what herald.msgs.inbound leaves (the message, `last_seen_on`)."""
    at = timezone.now() - ago
    Msg.objects.create(workspace=contact.workspace, contact=contact, channel=channel, direction=MsgDirection.IN,
                       text="hi", created_on=at, sent_on=at)  # fmt: skip
    contact.last_seen_on = at
    contact.save(update_fields=["last_seen_on"])


@pytest.fixture
def bob(workspace, channel):
    contact = make_contact(workspace, "Bob", urns=["whatsapp:250788123123"])
    wrote(contact, channel)
    return contact
