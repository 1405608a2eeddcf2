"""A subscription with `batch_size` gets several events per POST, `{"events": [...]}`, signed over the whole body,
each event as a single POST carries it (its id unchanged); the events of a POST share its fate (retried together,
ended together by a 410). Through HTTP: the API to subscribe and list, a real receiver on 127.0.0.1.

The events pile up while another sender holds the subscription's lease (as a turn in progress does); when it is
free, the tick's turn sends what is due, in batches."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from herald.testing.fixtures import post_broadcast, results
from herald.testing.gateway import reply
from herald.webhooks import tasks
from herald.webhooks.models import Delivery, Webhook
from herald.webhooks.tests.test_delivery import (
    deliveries,
    documented_verify,
    post_webhook,
    subscribe,
    wait_until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks", "sms")]

EVENTS = ["broadcast.started", "broadcast.completed", "message.status"]


def pile_up_a_broadcasts_events(admin, webhook) -> None:
    """A broadcast's three events, due together: another sender held the lease while they were written."""
    held = Webhook.objects.filter(uuid=webhook["uuid"])
    held.update(sending_until=timezone.now() + timedelta(hours=1), sending_owner="another sender")
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111", "tel:+250788222222"]})
    assert Delivery.objects.filter(status="P").count() == 3
    held.update(sending_until=None, sending_owner="")


def test_due_events_go_in_one_signed_post(admin, receiver):
    webhook = subscribe(admin, receiver, EVENTS, batch_size=10)
    assert webhook["batch_size"] == 10
    pile_up_a_broadcasts_events(admin, webhook)
    assert receiver.requests == []

    tasks.tick()
    (request,) = receiver.requests
    headers = {"Herald-Timestamp": request.headers["herald-timestamp"]}
    headers["Herald-Signature"] = request.headers["herald-signature"]
    assert documented_verify()(webhook["secret"], headers, request.body)  # over the whole batch
    assert request.headers["herald-event-count"] == "3"
    assert "herald-event-id" not in request.headers
    (events,) = json.loads(request.body).values()
    assert sorted(e["type"] for e in events) == sorted(EVENTS)
    listed = deliveries(admin, webhook)
    assert {d["event"]["id"] for d in listed} == {e["id"] for e in events}
    assert {d["status"] for d in listed} == {"delivered"}
    assert [[a["status_code"] for a in d["attempts"]] for d in listed] == [[200]] * 3
    for event in events:
        assert set(event) == {"id", "type", "created_on", "data"}  # as a single POST carries it


def test_a_batch_holds_at_most_batch_size_events(admin, receiver):
    webhook = subscribe(admin, receiver, EVENTS, batch_size=2)
    pile_up_a_broadcasts_events(admin, webhook)

    tasks.tick()
    batches = [request.json["events"] for request in receiver.requests]
    assert sorted(len(batch) for batch in batches) == [1, 2]
    ids = [event["id"] for batch in batches for event in batch]
    assert len(set(ids)) == 3 == len(ids)


def test_a_failed_batch_is_retried_whole_with_the_same_ids(admin, receiver):
    webhook = subscribe(admin, receiver, EVENTS, batch_size=10)
    pile_up_a_broadcasts_events(admin, webhook)
    receiver.will(reply(503, "busy"), reply(200))

    tasks.tick()
    wait_until(lambda: not Delivery.objects.filter(status="P").exists())
    first, second = (request.json["events"] for request in receiver.requests)
    assert sorted(e["id"] for e in first) == sorted(e["id"] for e in second)
    listed = deliveries(admin, webhook)
    assert [[a["status_code"] for a in d["attempts"]] for d in listed] == [[503, 200]] * 3
    assert {d["status"] for d in listed} == {"delivered"}


def test_a_410_on_a_batch_ends_the_subscription(admin, receiver):
    webhook = subscribe(admin, receiver, EVENTS, batch_size=10)
    pile_up_a_broadcasts_events(admin, webhook)
    receiver.will(reply(410, "gone"))

    tasks.tick()
    assert len(receiver.requests) == 1
    (listed,) = results(admin.get("/api/v2/webhooks.json"))
    assert listed["active"] is False
    assert {d["status"] for d in deliveries(admin, webhook)} == {"failed"}


def test_one_event_per_post_unless_asked(admin, receiver):
    webhook = subscribe(admin, receiver, EVENTS)
    assert webhook["batch_size"] == 1
    pile_up_a_broadcasts_events(admin, webhook)

    tasks.tick()
    assert sorted(request.json["type"] for request in receiver.requests) == sorted(EVENTS)


@pytest.mark.parametrize("size", [0, 101, "ten", None, 2.5])
def test_a_batch_size_out_of_range_is_refused(admin, receiver, size):
    response = post_webhook(admin, {"url": f"{receiver.url}/events", "events": EVENTS, "batch_size": size})
    assert response.status_code == 400
    assert list(response.json()) == ["batch_size"]
    assert not Webhook.objects.exists()
