"""Webhooks in a real installation (`herald worker` with its pools, `herald web`), a receiver on 127.0.0.1:

- a receiver that never answers holds only the webhook pool: the broadcast is sent all the same, and never more
  than HERALD_WEBHOOKS_CONCURRENCY requests are in flight to it;
- exactly one `broadcast.completed` event id per broadcast while two workers share the fan-out and one of them is
  killed (SIGKILL) around the completion.

Slow (real processes): marked `slow`. Runs on the embedded default or PostgreSQL + Redis (see msgs/tests/live.py).
"""

import time

import pytest
from django.conf import settings

from herald.msgs.models import BroadcastStatus
from herald.msgs.tests.live import Installation, Watch
from herald.testing.gateway import FakeGateway, hang, reply
from herald.webhooks.models import Delivery, DeliveryStatus, Event

pytestmark = pytest.mark.slow

SETTINGS = {
    "HERALD_FANOUT_BATCH": "20",
    "HERALD_TICK_SECONDS": "0.5",
    "HERALD_BROADCAST_STALL_SECONDS": "2",
    "HERALD_DELIVERY_LEASE_SECONDS": "2",
    "HERALD_WEBHOOKS_ALLOW_PRIVATE": "1",  # the receiver is on loopback
    "HERALD_WEBHOOKS_BACKOFF_SECONDS": "0.2",
}


@pytest.fixture
def receiver():
    with FakeGateway() as running:
        yield running


@pytest.fixture
def gateway():
    with FakeGateway() as running:
        yield running


@pytest.fixture(autouse=True)
def database_access(django_db_blocker):
    """The test reads the installation's own database (msgs/tests/conftest.py's `herald` fixture does the same)."""
    with django_db_blocker.unblock():
        yield


def installation(tmp_path, **env) -> Installation:
    return Installation(tmp_path, **SETTINGS, **env)


def subscribe(herald: Installation, receiver, events: list[str]) -> dict:
    response = herald.api_post("/api/v2/webhooks.json", {"url": f"{receiver.url}/events", "events": events})
    assert response.status_code == 201, response.text
    # The promise: the worker's processes see a new subscription within WEBHOOKS_SUBSCRIPTIONS_TTL (their snapshot).
    time.sleep(settings.WEBHOOKS_SUBSCRIPTIONS_TTL + 0.5)
    return response.json()


def post_broadcast(herald: Installation, group: str) -> int:
    response = herald.api_post("/api/v2/broadcasts.json", {"text": "Hi @contact.name", "groups": [group]})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_receiver_that_never_answers_does_not_hold_up_sending(tmp_path, gateway, receiver):
    # Each request to the receiver would hold a thread for two minutes: longer than the whole broadcast may take.
    receiver.will(hang(150))
    with installation(tmp_path, HERALD_WEBHOOKS_TIMEOUT="150") as herald:
        setup = herald.provision(gateway.url, contacts=400)
        herald.start("worker")
        herald.start("web")
        subscribe(herald, receiver, ["broadcast.started", "broadcast.completed", "message.status"])
        watch = Watch(herald, post_broadcast(herald, setup["group"]))

        watch.wait_until(watch.settled, "every message sent while the receiver hangs", timeout=100)
        watch.wait_until(lambda: len(receiver.requests) >= 4, "the receiver's requests in flight", timeout=30)
        # Every event is waiting for it, 4 (HERALD_WEBHOOKS_CONCURRENCY) on the wire, none answered yet.
        assert len(receiver.requests) == 4
        events = Event.objects.using(herald.db)
        assert events.filter(type="broadcast.completed").count() == 1
        assert events.filter(type="message.status").exists()
        pending = Delivery.objects.using(herald.db).filter(status=DeliveryStatus.PENDING).count()
        assert pending == events.count() > 4


def test_one_completion_event_when_two_workers_share_a_broadcast_and_one_is_killed_around_completion(
    tmp_path, gateway, receiver
):
    receiver.will(reply(200))
    contacts = 2000
    with installation(tmp_path, HERALD_FANOUT_TASK_SIZE="200") as herald:
        setup = herald.provision(gateway.url, contacts=contacts)
        first = herald.start("worker")
        herald.processes["first"] = first
        herald.start("worker")  # a second one: both fan the broadcast's ranges out
        herald.start("web")
        subscribe(herald, receiver, ["broadcast.completed"])
        watch = Watch(herald, post_broadcast(herald, setup["group"]))

        watch.wait_until(
            lambda: watch.broadcast.msg_count >= contacts * 0.8,
            "the fan-out nearly done",
            too_late=lambda: watch.broadcast.status == BroadcastStatus.COMPLETED,
        )
        first.kill()  # SIGKILL, around the completion: its ranges are picked up again by the tick
        herald.start("worker")
        watch.wait_until(watch.settled, "the broadcast completed by the survivors")

        events = Event.objects.using(herald.db).filter(type="broadcast.completed")
        watch.wait_until(
            lambda: Delivery.objects.using(herald.db).filter(status=DeliveryStatus.DELIVERED).count() == 1,
            "the completion delivered",
            timeout=60,
        )
        assert events.count() == 1
        (event,) = events
        assert event.data["status"] == "completed"
        assert event.data["progress"] == {"total": contacts, "started": contacts}
        # At least once: any repeat (a sender killed mid-request) carries the same id.
        assert {request.json["id"] for request in receiver.requests} == {str(event.uuid)}
