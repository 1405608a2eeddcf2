"""Exactly one event per broadcast and type, whoever completes (or fails) it and however often: the unique
(type, subject) key of the outbox, written in the transaction of the change. No event without its change, and none
for workspaces that don't subscribe. (The same with real processes and a kill -9: test_webhooks_live.py.)"""

import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from herald.msgs import fanout
from herald.msgs.audience import Audience
from herald.msgs.models import Broadcast, BroadcastStatus
from herald.msgs.tests.support import fan_out
from herald.testing.factories import make_broadcast, make_contact
from herald.webhooks import events
from herald.webhooks.models import Delivery, Event, Webhook

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def subscribed(workspace, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    # Nothing listens there and nothing is sent: delivery is not what these tests look at (no eager tasks).
    return Webhook.objects.create(
        workspace=workspace,
        url="http://127.0.0.1:9/events",
        events=["broadcast.started", "broadcast.completed", "broadcast.failed"],
    )


@pytest.fixture
def broadcast(workspace):
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"])
    return make_broadcast(workspace, "Hi", contacts=[ann])


def completions(broadcast) -> list[str]:
    return [
        str(u)
        for u in Event.objects.filter(type="broadcast.completed", subject_id=broadcast.id).values_list(
            "uuid", flat=True
        )
    ]


@pytest.mark.usefixtures("subscribed")
def test_a_broadcast_completed_again_keeps_its_one_completion_event(broadcast):
    fan_out(broadcast.id)
    (first,) = completions(broadcast)
    assert Event.objects.filter(type="broadcast.started").count() == 1

    # As a worker that read it before the completion would: the broadcast is completed a second time.
    for _ in range(2):
        Broadcast.objects.filter(id=broadcast.id).update(status=BroadcastStatus.STARTED)
        assert fanout.complete_if_done(broadcast, Audience(broadcast))
    assert completions(broadcast) == [first]
    assert Delivery.objects.count() == 2  # started, completed: each once


def test_workers_racing_to_complete_write_one_event(broadcast, subscribed):
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory test database can't be shared by threads; test_webhooks_live.py races processes")
    fan_out(broadcast.id)
    Event.objects.all().delete()
    Broadcast.objects.filter(id=broadcast.id).update(status=BroadcastStatus.STARTED)
    barrier, errors = threading.Barrier(4), []

    def complete():
        try:
            barrier.wait()
            fanout.complete_if_done(Broadcast.objects.get(id=broadcast.id), Audience(broadcast))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=complete) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(completions(broadcast)) == 1
    assert Delivery.objects.filter(webhook=subscribed).count() == 1


@pytest.mark.usefixtures("subscribed")
def test_an_event_is_undone_with_the_change_that_caused_it(broadcast):
    fan_out(broadcast.id)
    Event.objects.all().delete()
    Broadcast.objects.filter(id=broadcast.id).update(status=BroadcastStatus.STARTED)

    def complete_then_die():
        with transaction.atomic():
            fanout.complete_if_done(broadcast, Audience(broadcast))
            raise RuntimeError("the worker dies before it commits")

    with pytest.raises(RuntimeError, match="dies"):
        complete_then_die()
    assert Broadcast.objects.get(id=broadcast.id).status == BroadcastStatus.STARTED
    assert not Event.objects.exists()
    assert not Delivery.objects.exists()


@pytest.mark.usefixtures("subscribed")
def test_a_fan_out_that_keeps_failing_tells_broadcast_failed_once(broadcast, settings):
    settings.BROADCAST_MAX_FAILURES = 1

    def poisoned_attempt():
        with fanout.counting_failures(broadcast.id, 0):
            raise ValueError("a poison broadcast")

    for _ in range(3):
        with pytest.raises(ValueError, match="poison"):
            poisoned_attempt()
        Broadcast.objects.filter(id=broadcast.id).update(status=BroadcastStatus.STARTED)
    failed = Event.objects.filter(type="broadcast.failed", subject_id=broadcast.id)
    assert failed.count() == 1
    assert failed.get().data["status"] == "failed"


def test_without_a_subscription_a_completion_costs_no_webhook_query(broadcast, other_workspace):
    Webhook.objects.create(workspace=other_workspace, url="http://127.0.0.1:9/x", events=["broadcast.completed"])
    events.subscribed_types()  # the snapshot, read once per WEBHOOKS_SUBSCRIPTIONS_TTL
    fan_out(broadcast.id)
    Broadcast.objects.filter(id=broadcast.id).update(status=BroadcastStatus.STARTED)
    with CaptureQueriesContext(connection) as queries:
        assert fanout.complete_if_done(broadcast, Audience(broadcast))
    assert not [q for q in queries.captured_queries if "webhooks_" in q["sql"]]
    assert not Event.objects.exists()
