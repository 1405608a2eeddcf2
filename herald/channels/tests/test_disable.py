"""A disabled channel (`herald channel disable`) sends nothing, is routed past, and its queued messages wait until
`herald channel enable`: through the API, the CLI and the fake gateway, tasks run eagerly on a committing database."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from herald.msgs import delivery, tasks
from herald.msgs.models import Msg, MsgStatus
from herald.testing.factories import make_contact, make_msg
from herald.testing.gateway import gateway_channel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


def channel_command(*args) -> str:
    out = io.StringIO()
    call_command("channel", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def paths(gateway) -> list[str]:
    return [request.path for request in gateway.requests]


def test_a_disabled_channel_sends_nothing_until_enabled(admin, workspace, gateway):
    first = gateway_channel(workspace, gateway.url, name="First")  # the oldest: routing's first choice
    second = gateway_channel(workspace, f"{gateway.url}/second", name="Second")
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"])
    # Routed to the first channel before it was disabled (its URN remembers it, too).
    waiting = make_msg(ann, channel=first, status=MsgStatus.QUEUED)
    ann.urns.update(channel=first)

    channel_command("disable", str(first.uuid))
    tasks.tick()
    assert delivery.deliver(first.id) == 0
    assert delivery.due_messages(first.id, 10, timezone.now()) == []
    waiting.refresh_from_db()
    assert waiting.status == MsgStatus.QUEUED
    assert gateway.requests == []

    # New messages go through the channel still enabled, even for a contact whose URN last used the disabled one.
    response = admin.post("/api/v2/broadcasts.json", {"text": "Hi", "contacts": [str(ann.uuid)]}, format="json")
    assert response.status_code == 201
    new = Msg.objects.get(broadcast__isnull=False)
    assert (new.channel, new.status) == (second, MsgStatus.WIRED)
    assert paths(gateway) == ["/second/send"]

    channel_command("enable", str(first.uuid))
    tasks.tick()
    waiting.refresh_from_db()
    assert waiting.status == MsgStatus.WIRED
    assert paths(gateway) == ["/second/send", "/send"]
    assert gateway.requests[1].json["id"] == str(waiting.uuid)


def test_with_every_channel_disabled_a_new_message_has_no_route(admin, workspace, gateway):
    only = gateway_channel(workspace, gateway.url)
    channel_command("disable", str(only.uuid))

    response = admin.post("/api/v2/broadcasts.json", {"text": "Hi", "urns": ["tel:+250788111111"]}, format="json")

    assert response.status_code == 201
    msg = Msg.objects.get()
    assert msg.status == MsgStatus.FAILED
    assert msg.get_failed_reason_display() == "no channel can send to any of the contact's URNs"
    assert gateway.requests == []
