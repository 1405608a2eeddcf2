"""A misbehaving gateway: answers 5xx for a while, times out, drops connections, is down, or refuses (4xx).

Transient faults are retried with growing back-off until the message goes (nothing lost); permanent ones end
`failed` with their reason; the channel's rate limit holds while retries and new messages share it. The real
pipeline runs in-process (eager tasks, a database that commits) against a real HTTP gateway on 127.0.0.1;
instead of sleeping through back-offs, a test moves `next_attempt` into the past and calls the tick.
"""

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import cast

import pytest
from django.utils import timezone

from herald.msgs import delivery, tasks
from herald.msgs.models import Broadcast, BroadcastStatus, FailedReason, Msg, MsgStatus
from herald.msgs.status import retry_delay
from herald.msgs.tests.support import fan_out
from herald.runtime.celery import app as celery_app
from herald.testing.factories import make_broadcast, make_contact
from herald.testing.gateway import (
    FakeGateway,
    drop,
    garbage,
    gateway_channel,
    hang,
    reply,
    unreachable_url,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

FINAL = (MsgStatus.WIRED, MsgStatus.FAILED)


@pytest.fixture(autouse=True)
def short_timeouts(settings):
    settings.CHANNEL_SEND_TIMEOUT = settings.CHANNEL_CONNECT_TIMEOUT = 1.0
    settings.SEND_RETRY_DELAYS = [10.0, 60.0, 300.0]
    settings.SEND_MAX_RETRIES = 3


_numbers = iter(range(1_000_000))


def send_broadcast(workspace, recipients: int) -> Broadcast:
    """A broadcast to `recipients` new contacts, started as the API starts one (its task runs eagerly here)."""
    contacts = [make_contact(workspace, f"C{n}", [f"tel:+25078{next(_numbers):07d}"]) for n in range(recipients)]
    broadcast = make_broadcast(workspace, "Hi", contacts=contacts)
    tasks.start_broadcast.delay(broadcast.id)
    return broadcast


def retry_due_now() -> None:
    """Skip the back-off: every errored message becomes due, as if its wait were over."""
    Msg.objects.filter(status=MsgStatus.ERRORED).update(next_attempt=timezone.now() - timedelta(seconds=1))


def retry(times: int = 1) -> None:
    for _ in range(times):
        retry_due_now()
        tasks.tick()


def seen_ids(gateway) -> Counter:
    return Counter(request.json["id"] for request in gateway.requests)


def statuses() -> Counter:
    return Counter(Msg.objects.values_list("status", flat=True))


def lost(broadcast: Broadcast, gateway=None) -> int:
    """Recipients without a message, messages without a final status, and `wired` ones the gateway never saw."""
    broadcast.refresh_from_db()
    msgs = Msg.objects.filter(broadcast=broadcast)
    missing = cast(int, broadcast.contact_count) - msgs.count()  # counted once the fan-out began
    unfinished = msgs.exclude(status__in=FINAL).count()
    unseen = 0
    if gateway is not None:
        seen = set(seen_ids(gateway))
        unseen = sum(1 for uuid in msgs.filter(status=MsgStatus.WIRED).values_list("uuid", flat=True)
                     if str(uuid) not in seen)  # fmt: skip
    return missing + unfinished + unseen


def test_5xx_for_a_while_then_ok(workspace, gateway, figures):
    gateway_channel(workspace, gateway.url)
    gateway.will(reply(503, "busy"))
    broadcast = send_broadcast(workspace, 6)

    assert statuses() == {MsgStatus.ERRORED: 6}
    for msg in Msg.objects.all():
        assert msg.error_count == 1
        assert msg.error_detail == "gateway answered HTTP 503: busy"
        assert msg.next_attempt - msg.modified_on == retry_delay(1) == timedelta(seconds=10)

    tasks.tick()  # the back-off is not over: nothing is sent
    assert len(gateway.requests) == 6

    gateway.will(reply(500, "oops"))
    retry()
    for msg in Msg.objects.all():
        assert (msg.status, msg.error_count) == (MsgStatus.ERRORED, 2)
        assert msg.next_attempt - msg.modified_on == timedelta(seconds=60)  # the back-off grows

    gateway.will(reply(200))
    retry()
    assert statuses() == {MsgStatus.WIRED: 6}
    assert Broadcast.objects.get().status == BroadcastStatus.COMPLETED
    assert set(seen_ids(gateway).values()) == {3}  # two refusals, then accepted once
    assert lost(broadcast, gateway) == 0
    figures(faults=12, lost=0, duplicates=0)


def test_timeouts_are_retried(workspace, gateway, figures):
    gateway_channel(workspace, gateway.url)
    gateway.will(hang(1.5))  # longer than the 1 s send timeout
    broadcast = send_broadcast(workspace, 3)

    assert statuses() == {MsgStatus.ERRORED: 3}
    assert Msg.objects.first().error_detail.startswith("gateway timed out")

    gateway.will(reply(200))
    retry()
    assert statuses() == {MsgStatus.WIRED: 3}
    assert lost(broadcast, gateway) == 0
    # The gateway did take the timed-out requests (it answered 200 after Herald gave up), so each message reached
    # it twice: a plain HTTP send can't tell "lost" from "slow", and only a gateway that de-duplicates on the
    # message id (`{{id}}`) can avoid this.
    duplicates = sum(1 for count in seen_ids(gateway).values() if count > 1)
    assert duplicates == 3
    figures(faults=3, lost=0, duplicates=duplicates, why="gateway answered after the send timeout")


def test_dropped_connections_and_garbage_are_retried(workspace, gateway, figures):
    gateway_channel(workspace, gateway.url)
    gateway.will(drop(), garbage(), drop(), reply(200))  # the first three requests fail, the rest succeed
    broadcast = send_broadcast(workspace, 5)

    errored = Msg.objects.filter(status=MsgStatus.ERRORED)
    assert statuses() == {MsgStatus.ERRORED: 3, MsgStatus.WIRED: 2}
    assert all(m.error_detail.startswith("could not reach gateway") for m in errored)

    retry()
    assert statuses() == {MsgStatus.WIRED: 5}
    assert sorted(seen_ids(gateway).values()) == [1, 1, 2, 2, 2]
    assert lost(broadcast, gateway) == 0
    figures(faults=3, lost=0, duplicates=0)


def test_gateway_down_for_a_minute_then_up(workspace, figures):
    url = unreachable_url()
    gateway_channel(workspace, url)
    broadcast = send_broadcast(workspace, 4)
    assert statuses() == {MsgStatus.ERRORED: 4}
    assert "could not reach gateway" in Msg.objects.first().error_detail

    retry()  # the attempt 10 s later: still down
    assert Counter(Msg.objects.values_list("error_count", flat=True)) == {2: 4}

    # A minute has passed (the next attempt is due 60 s later): the gateway is back, on the same address.
    with FakeGateway(port=int(url.rsplit(":", 1)[1])) as back_up:
        retry()
        assert statuses() == {MsgStatus.WIRED: 4}
        assert set(seen_ids(back_up).values()) == {1}  # refused attempts never reached it
        assert lost(broadcast, back_up) == 0
    figures(faults=8, lost=0, duplicates=0)


def test_gateway_down_past_the_retry_limit_fails_with_reason(workspace, figures):
    gateway_channel(workspace, unreachable_url())
    broadcast = send_broadcast(workspace, 2)
    retry(times=3)  # the first attempt and three retries all refused

    for msg in Msg.objects.all():
        assert (msg.status, msg.failed_reason, msg.error_count) == (MsgStatus.FAILED, FailedReason.RETRIES, 4)
        assert msg.error_detail.startswith("could not reach gateway")
        assert msg.next_attempt is None
    retry()  # failed is final: never tried again
    assert Counter(Msg.objects.values_list("error_count", flat=True)) == {4: 2}
    assert Broadcast.objects.get().status == BroadcastStatus.COMPLETED
    assert lost(broadcast) == 0
    figures(faults=8, lost=0, duplicates=0, failed=2)


@pytest.mark.parametrize("code", [400, 401, 403, 404, 422])
def test_4xx_fails_at_once_with_its_reason(workspace, gateway, code, figures):
    gateway_channel(workspace, gateway.url)
    gateway.will(reply(code, "unknown number"))
    broadcast = send_broadcast(workspace, 2)

    for msg in Msg.objects.all():
        assert (msg.status, msg.failed_reason) == (MsgStatus.FAILED, FailedReason.PERMANENT)
        assert msg.error_detail == f"gateway answered HTTP {code}: unknown number"
    retry()
    assert len(gateway.requests) == 2  # a refusal is not retried
    assert lost(broadcast, gateway) == 0
    figures(faults=2, lost=0, duplicates=0, failed=2)


def test_429_is_retried_not_failed(workspace, gateway):
    gateway_channel(workspace, gateway.url)
    gateway.will(reply(429, "slow down"), reply(200))
    send_broadcast(workspace, 1)
    assert statuses() == {MsgStatus.ERRORED: 1}
    retry()
    assert statuses() == {MsgStatus.WIRED: 1}


class FakeClock:
    """Stands in for `time` in the delivery loop: its pacing sleeps advance this clock instead of the wall."""

    def __init__(self):
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_rate_limit_holds_while_retrying(workspace, gateway, monkeypatch, settings, figures):
    clock = FakeClock()
    monkeypatch.setattr(delivery, "time", clock)
    # One task sends it all: the clock races ahead of the real sends, which would end a task's turn at once
    # (test_fairness.py holds the rate across task turns, on the real clock).
    settings.DELIVERY_TASK_SECONDS = 10**6
    chunks = []  # (clock time, messages) of each chunk the delivery loop took
    real_due = delivery.due_messages

    def due_messages(*args):
        chunk = real_due(*args)
        if chunk:
            chunks.append((clock.now, len(chunk)))
        return chunk

    monkeypatch.setattr(delivery, "due_messages", due_messages)

    gateway_channel(workspace, gateway.url, tps=3)
    gateway.will(reply(503))
    send_broadcast(workspace, 7)  # every attempt refused: 7 errored messages
    assert statuses() == {MsgStatus.ERRORED: 7}

    gateway.will(reply(200))
    retry_due_now()
    second = send_broadcast(workspace, 4)  # 7 retries and 4 new messages share the channel's 3 a second
    assert statuses() == {MsgStatus.WIRED: 11}

    assert sum(size for _, size in chunks) == len(gateway.requests) == 7 + 11
    # In any one second (of the clock the loop paces itself by), never more than `tps` requests.
    busiest = max(sum(size for at, size in chunks if start <= at < start + 1) for start, _ in chunks)
    assert busiest == 3
    assert lost(second, gateway) == 0
    figures(faults=7, lost=0, duplicates=0, busiest_second=busiest, tps=3)


def test_a_gateway_slower_than_the_send_lease_still_gets_each_message_once(workspace, gateway, settings):
    # Sends that take longer than the lease: the live sender must keep its channel, or the tick's next delivery
    # would take the lease over and send the same (still queued) messages a second time.
    settings.DELIVERY_LEASE_SECONDS = 0.3
    settings.CHANNEL_SEND_TIMEOUT = 5.0
    channel = gateway_channel(workspace, gateway.url)
    contacts = [make_contact(workspace, f"C{n}", [f"tel:+25078{next(_numbers):07d}"]) for n in range(3)]
    make_broadcast(workspace, "Hi", contacts=contacts)
    celery_app.conf.task_always_eager = False  # fan out only; delivery is started by hand below
    fan_out(Broadcast.objects.get().id)

    gateway.will(hang(1.5))  # each answer (200 OK) takes 1.5 s
    first = threading.Thread(target=delivery.deliver, args=(channel.id,))
    first.start()
    while len(gateway.requests) < 3:  # the first sender has every message on the wire ...
        time.sleep(0.01)
    time.sleep(0.6)  # ... for twice the lease's length
    assert delivery.deliver(channel.id) == 0  # a second sender (the tick's) finds the channel taken
    first.join()

    assert statuses() == {MsgStatus.WIRED: 3}
    assert set(seen_ids(gateway).values()) == {1}
