"""A channel's `tps` counts SMS segments, and a broadcast's `max_per_second` holds that broadcast alone to it
(docs/COMPATIBILITY.md, C57, C58).

Broadcasts are sent through the API and delivered in-process to real HTTP gateways on 127.0.0.1, which record when
each request arrives. A rate is counted on the gateway's clock in windows of a second less `ARRIVAL_JITTER`: two
requests paced exactly a second apart may reach the gateway a little closer together than they left (threads,
loopback), and that is not the pacing's doing.
"""

import itertools
from collections import Counter

import pytest

from herald.msgs import delivery, tasks
from herald.msgs.models import Broadcast, Msg, MsgStatus
from herald.msgs.segments import count_segments
from herald.msgs.tests.support import fan_out
from herald.testing.factories import make_contact
from herald.testing.fixtures import eager
from herald.testing.gateway import FakeGateway, gateway_channel

ARRIVAL_JITTER = 0.1  # seconds
SHORT = "Hi @contact.name"  # one SMS segment
LONG = "x" * 400  # three GSM-7 segments
TOO_LONG = "y" * 1000  # seven segments: more than a tps=6 channel's second on its own

pytestmark = pytest.mark.django_db(transaction=True)  # delivery's threads read what the test wrote


def segments(request) -> int:
    return count_segments(request.json["text"])


def busiest(requests, cost=segments) -> int:
    """The most segments (or `cost`) that arrived within any window of a second (less the jitter)."""
    window = 1.0 - ARRIVAL_JITTER
    arrivals = sorted((r.at, cost(r)) for r in requests)
    return max(sum(c for at, c in arrivals if start <= at < start + window) for start, _ in arrivals)


def one_each(gateway) -> bool:
    return set(Counter(request.json["id"] for request in gateway.requests).values()) == {1}


def audience(workspace, count: int, prefix: str, long_every: int = 0) -> list[str]:
    """`count` new contacts' uuids; every `long_every`-th of them reads French (the broadcasts' long text)."""
    contacts = [
        make_contact(workspace, f"{prefix}{i}", [f"tel:+25078{next(_numbers):07d}"],
                     language="fra" if long_every and i % long_every == long_every - 1 else None)
        for i in range(count)
    ]  # fmt: skip
    return [str(contact.uuid) for contact in contacts]


_numbers = itertools.count(4_000_000)


def post_broadcast(admin, contacts: list[str], text: dict, **fields) -> Broadcast:
    """A broadcast sent through the API and fanned out into its messages (delivery is the test's to run)."""
    response = admin.post("/api/v2/broadcasts.json", {"contacts": contacts, "text": text, **fields}, format="json")
    assert response.status_code == 201, response.content
    broadcast = Broadcast.objects.get(uuid=response.json()["uuid"])
    fan_out(broadcast.id)
    return broadcast


def wired(broadcast: Broadcast) -> Counter:
    return Counter(Msg.objects.filter(broadcast=broadcast).values_list("status", flat=True))


def test_a_channels_tps_counts_sms_segments_in_every_second(workspace, admin, gateway):
    """One- and three-segment messages in turn on a tps=6 channel: never more than 6 segments in a second, although
    evenly spaced sends alone (a 1-part, then a 3-part 1/6 s later ...) would put 8 in one."""
    gateway_channel(workspace, gateway.url, tps=6)
    broadcast = post_broadcast(admin, audience(workspace, 10, "A", long_every=2), {"eng": SHORT, "fra": LONG})
    assert sorted(Msg.objects.filter(broadcast=broadcast).values_list("msg_count", flat=True)) == [1] * 5 + [3] * 5

    delivery.deliver(Msg.objects.filter(broadcast=broadcast).first().channel_id)

    assert wired(broadcast) == {MsgStatus.WIRED: 10}
    assert one_each(gateway)
    assert sum(segments(r) for r in gateway.requests) == 20
    assert busiest(gateway.requests) <= 6  # counted as messages, 6 a second would be up to 18 segments


def test_a_message_longer_than_a_seconds_budget_goes_alone(workspace, admin, gateway):
    gateway_channel(workspace, gateway.url, tps=6)
    broadcast = post_broadcast(admin, audience(workspace, 7, "B", long_every=4), {"eng": "Hi", "fra": TOO_LONG})

    delivery.deliver(Msg.objects.filter(broadcast=broadcast).first().channel_id)

    assert wired(broadcast) == {MsgStatus.WIRED: 7}
    assert one_each(gateway)
    (alone,) = [r for r in gateway.requests if segments(r) == 7]
    near = [r for r in gateway.requests if r is not alone and abs(r.at - alone.at) < 1.0 - ARRIVAL_JITTER]
    assert near == []  # nothing else in its second, before or after it
    assert busiest([r for r in gateway.requests if r is not alone]) <= 6


def test_the_limit_holds_across_hand_overs_to_the_next_task(workspace, admin, gateway, settings, monkeypatch):
    """Another channel has messages due all along, so every turn (half a second) ends with a hand-over to a new
    task: the next task counts the sends of the one before (its `Handoff` carries them)."""
    settings.DELIVERY_TASK_SECONDS = 0.5
    channel = gateway_channel(workspace, gateway.url, tps=6)
    with FakeGateway() as elsewhere:
        other = gateway_channel(workspace, elsewhere.url, name="Other")
        broadcast = post_broadcast(admin, audience(workspace, 12, "C", long_every=2), {"eng": SHORT, "fra": LONG})
        busy = post_broadcast(admin, audience(workspace, 10, "D"), {"eng": "Elsewhere"})
        Msg.objects.filter(broadcast=busy).update(channel=other)
        turns, real_deliver = [], delivery.deliver

        def deliver(channel_id, handoff=None, **kwargs):  # a spy: counts the tasks, changes nothing
            if channel_id == channel.id:
                turns.append(handoff)
            return real_deliver(channel_id, handoff, **kwargs)

        monkeypatch.setattr(delivery, "deliver", deliver)
        with eager():  # each hand-over's task runs at once, in this thread
            tasks.deliver_channel(channel.id)

    assert wired(broadcast) == {MsgStatus.WIRED: 12}
    assert one_each(gateway)
    assert len(turns) >= 3  # sent by several tasks, one after the other
    assert all(handoff.pace["channel"] for handoff in turns[1:])
    assert busiest(gateway.requests) <= 6


@pytest.mark.parametrize("tps", [20, None])
def test_a_capped_broadcast_goes_at_its_cap_while_another_goes_at_the_channels_pace(workspace, admin, gateway, tps):
    gateway_channel(workspace, gateway.url, tps=tps)
    capped = post_broadcast(admin, audience(workspace, 7, "E"), {"eng": "Slowly"}, max_per_second=2)
    free = post_broadcast(admin, audience(workspace, 30, "F"), {"eng": "Quickly"})  # queued behind the capped one

    delivery.deliver(Msg.objects.filter(broadcast=capped).first().channel_id)

    assert (wired(capped), wired(free)) == ({MsgStatus.WIRED: 7}, {MsgStatus.WIRED: 30})
    assert one_each(gateway)
    slow = [r for r in gateway.requests if r.json["text"] == "Slowly"]
    quick = [r for r in gateway.requests if r.json["text"] == "Quickly"]
    assert busiest(slow) == 2
    # The other broadcast was not held to the cap nor kept behind the capped one's backlog: it was all handed over
    # while the capped one still had messages to send.
    assert busiest(quick) > 2
    assert max(r.at for r in quick) < max(r.at for r in slow)
    if tps:
        assert busiest(gateway.requests) <= tps


def test_a_message_sent_on_its_own_jumps_ahead_of_a_capped_broadcast(workspace, admin, gateway, monkeypatch):
    channel = gateway_channel(workspace, gateway.url, tps=20)
    capped = post_broadcast(admin, audience(workspace, 4, "G"), {"eng": "Slowly"}, max_per_second=1)
    joe = Msg.objects.filter(broadcast=capped).order_by("id").last().contact
    chunks, real_submit = [], delivery.Run._submit

    def submit(run, chunk):  # a spy: the first chunk is on its way when a reply is sent
        if not chunks:
            response = admin.post(
                "/api/v2/messages.json", {"contact": str(joe.uuid), "text": "Just you"}, format="json"
            )
            assert response.status_code == 201, response.content
        chunks.append([msg.text for msg in chunk])
        return real_submit(run, chunk)

    monkeypatch.setattr(delivery.Run, "_submit", submit)
    delivery.deliver(channel.id)

    assert chunks[0] == ["Slowly"]  # the cap's share of the first second
    assert chunks[1][0] == "Just you"  # the very next chunk, ahead of the broadcast's next message
    assert [r.json["text"] for r in gateway.requests].count("Just you") == 1
    assert busiest([r for r in gateway.requests if r.json["text"] == "Slowly"]) == 1
    assert wired(capped) == {MsgStatus.WIRED: 4}
