"""What one fan-out batch reads and writes: each contact with all its URNs (read joined, in one query), the route
of the highest-priority URN a channel serves, time-ordered message UUIDs, and the few queries a one-recipient
broadcast costs (POST → first message: the small broadcast's path).
"""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from herald.channels.registry import create_channel
from herald.msgs import tasks
from herald.msgs.models import Broadcast, BroadcastStatus, FailedReason, Msg, MsgStatus
from herald.msgs.tests.support import fan_out
from herald.testing.factories import make_broadcast, make_contact, make_group

pytestmark = pytest.mark.django_db(transaction=True)

# What starting a broadcast to one new URN costs, resolving the URN's contact included (44 before the small
# broadcast's path was cut: a lone range re-resolved the audience, a broadcast with no group asked for members).
ONE_RECIPIENT_QUERIES = 36


@pytest.fixture
def channels(workspace):
    # No gateway: only the fan-out is under test, delivery is never started (no `on_batch` in direct calls).
    tel = create_channel(workspace, "external", "Tel", schemes=["tel"], config={"send_url": "http://127.0.0.1:9/"})
    mail = create_channel(workspace, "external", "Mail", schemes=["mailto"], config={"send_url": "http://127.0.0.1:9/"})
    return tel, mail


def test_each_contact_goes_by_its_best_urn_a_channel_serves(settings, workspace, channels):
    settings.FANOUT_BATCH_SIZE = 3  # several batches, each with contacts of one, two and no URNs
    tel, mail = channels
    contacts = []
    for n in range(7):
        urns = [[f"tel:+25078810{n:04d}", f"mailto:c{n}@example.com"], [f"mailto:c{n}@example.com"], []][n % 3]
        contacts.append(make_contact(workspace, f"C{n}", urns))
    broadcast = make_broadcast(
        workspace, "Hi @contact.name at @urns.mailto", groups=[make_group(workspace, "G", contacts)]
    )

    fan_out(broadcast.id)

    messages = {m.contact_id: m for m in Msg.objects.filter(broadcast=broadcast).select_related("contact_urn")}
    assert len(messages) == 7
    for n, contact in enumerate(contacts):
        message = messages[contact.id]
        if n % 3 == 0:  # tel first: the highest priority
            assert (message.channel_id, message.contact_urn.scheme) == (tel.id, "tel")
            assert message.text == f"Hi C{n} at mailto:c{n}@example.com"  # the contact's other URNs are read too
        elif n % 3 == 1:
            assert (message.channel_id, message.contact_urn.scheme) == (mail.id, "mailto")
        else:
            assert (message.status, message.failed_reason) == (MsgStatus.FAILED, FailedReason.NO_DESTINATION)
            assert message.text == f"Hi C{n} at "
    assert Broadcast.objects.get(id=broadcast.id).status == BroadcastStatus.COMPLETED


def test_message_uuids_are_time_ordered_and_unique(settings, workspace, channels):
    settings.FANOUT_BATCH_SIZE = 5
    contacts = [make_contact(workspace, f"C{n}", [f"tel:+25078820{n:04d}"]) for n in range(12)]
    broadcast = make_broadcast(workspace, "Hello", groups=[make_group(workspace, "G", contacts)])

    fan_out(broadcast.id)

    ids = list(Msg.objects.filter(broadcast=broadcast).order_by("contact_id").values_list("uuid", flat=True))
    assert len(set(ids)) == 12
    assert all(isinstance(i, uuid.UUID) and i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert ids == sorted(ids)  # in contact order, batch after batch: new rows land at the end of the index


def test_a_one_recipient_broadcast_starts_in_few_queries(workspace, channels, eager_tasks, monkeypatch):
    monkeypatch.setattr(tasks, "enqueue_delivery", lambda channel_ids: None)  # the fan-out alone is counted
    broadcast = make_broadcast(workspace, "Hello", urns=["tel:+250788123456"])

    with CaptureQueriesContext(connection) as queries:
        tasks.start_broadcast(broadcast.id)

    (message,) = Msg.objects.filter(broadcast=broadcast)
    assert (message.status, message.text, message.contact_urn.path) == (MsgStatus.QUEUED, "Hello", "+250788123456")
    assert Broadcast.objects.get(id=broadcast.id).status == BroadcastStatus.COMPLETED
    assert len(queries) <= ONE_RECIPIENT_QUERIES, "\n".join(q["sql"][:120] for q in queries.captured_queries)
