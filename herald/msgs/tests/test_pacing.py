"""A channel's `tps` counts SMS segments, and a broadcast's `max_per_second` holds that broadcast alone to it
(docs/COMPATIBILITY.md, C57, C58).

Broadcasts are sent through the API and delivered in-process to real HTTP gateways on 127.0.0.1. As the rate tests
of test_fairness.py do, the rate is counted on Herald's clock, exactly: each send's start as the delivery loop
planned it (`Run.starts`, seen by a spy on `Run._submit` that changes nothing). The gateway, on the same clock, shows
that no request arrived before its planned start, so the plan is what went out; how closely the requests then keep
to it on the wire (threads, loopback, a loaded machine) is reported as a figure, not asserted.
"""

import itertools
from collections import Counter

import pytest

from herald.msgs import delivery, tasks
from herald.msgs.models import Broadcast, Msg, MsgStatus
from herald.msgs.pacing import WINDOW
from herald.msgs.segments import count_segments
from herald.msgs.tests.support import fan_out
from herald.testing.factories import make_contact
from herald.testing.fixtures import eager
from herald.testing.gateway import FakeGateway, gateway_channel

SHORT = "Hi @contact.name"  # one SMS segment
LONG = "x" * 400  # three GSM-7 segments
TOO_LONG = "y" * 1000  # seven segments: more than a tps=6 channel's second on its own

pytestmark = pytest.mark.django_db(transaction=True)  # delivery's threads read what the test wrote


class Sends:
    """Each send as the delivery loop planned it: (start, cost, text, message uuid), from a spy on `Run._submit`."""

    def __init__(self, monkeypatch):
        self.planned: list[tuple[float, int, str, str]] = []
        self.chunks: list[list[str]] = []
        real_submit = delivery.Run._submit

        def submit(run, chunk):
            self.planned += [(at, m.msg_count, m.text, str(m.uuid)) for at, m in zip(run.starts, chunk, strict=True)]
            self.chunks.append([m.text for m in chunk])
            return real_submit(run, chunk)

        monkeypatch.setattr(delivery.Run, "_submit", submit)

    def busiest(self, text: str | None = None) -> int:
        """The most segments whose sends start within any one-second window (of one text, or all)."""
        return busiest([(at, cost) for at, cost, t, _ in self.planned if text in (None, t)])

    def none_early(self, gateway) -> bool:
        """Whether every request reached the gateway at or after its planned start (the same clock)."""
        start = {uuid: at for at, _, _, uuid in self.planned}
        return len(start) == len(gateway.requests) and all(r.at >= start[r.json["id"]] for r in gateway.requests)


def busiest(sends: list[tuple[float, int]]) -> int:
    return max(sum(cost for other, cost in sends if at <= other < at + WINDOW) for at, _ in sends)


def on_the_wire(gateway) -> int:
    """The same count over the gateway's arrival times: a figure, not a promise."""
    return busiest([(r.at, count_segments(r.json["text"])) for r in gateway.requests])


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


def test_a_channels_tps_counts_sms_segments_in_every_second(workspace, admin, gateway, monkeypatch, figures):
    """One- and three-segment messages in turn on a tps=6 channel: never more than 6 segments in a second, although
    evenly spaced sends alone (a 1-part, then a 3-part 1/6 s later ...) would put 8 in one."""
    gateway_channel(workspace, gateway.url, tps=6)
    broadcast = post_broadcast(admin, audience(workspace, 10, "A", long_every=2), {"eng": SHORT, "fra": LONG})
    assert sorted(Msg.objects.filter(broadcast=broadcast).values_list("msg_count", flat=True)) == [1] * 5 + [3] * 5
    sends = Sends(monkeypatch)

    delivery.deliver(Msg.objects.filter(broadcast=broadcast).first().channel_id)

    assert wired(broadcast) == {MsgStatus.WIRED: 10}
    assert one_each(gateway)
    assert sends.none_early(gateway)
    assert sum(cost for _, cost, _, _ in sends.planned) == 20
    assert sends.busiest() <= 6  # counted as messages, 6 a second would be up to 18 segments
    figures(busiest_second_planned=sends.busiest(), busiest_second_on_the_wire=on_the_wire(gateway), tps=6)


def test_a_message_longer_than_a_seconds_budget_goes_alone(workspace, admin, gateway, monkeypatch):
    gateway_channel(workspace, gateway.url, tps=6)
    broadcast = post_broadcast(admin, audience(workspace, 7, "B", long_every=4), {"eng": "Hi", "fra": TOO_LONG})
    sends = Sends(monkeypatch)

    delivery.deliver(Msg.objects.filter(broadcast=broadcast).first().channel_id)

    assert wired(broadcast) == {MsgStatus.WIRED: 7}
    assert one_each(gateway)
    assert sends.none_early(gateway)
    (alone,) = [at for at, cost, _, _ in sends.planned if cost == 7]
    others = [at for at, cost, _, _ in sends.planned if cost != 7]
    assert [at for at in others if alone - WINDOW < at < alone] == []  # nothing in the second before it
    assert min(at for at in others if at > alone) == pytest.approx(alone + 7 / 6)  # it counts 7 of 6
    assert busiest([(at, cost) for at, cost, _, _ in sends.planned if cost != 7]) <= 6


def test_the_limit_holds_across_hand_overs_to_the_next_task(workspace, admin, gateway, settings, monkeypatch, figures):
    """Another channel has messages due all along, so every turn (half a second) ends with a hand-over to a new
    task: the next task counts the sends of the one before (its `Handoff` carries them)."""
    settings.DELIVERY_TASK_SECONDS = 0.5
    channel = gateway_channel(workspace, gateway.url, tps=6)
    with FakeGateway() as elsewhere:
        other = gateway_channel(workspace, elsewhere.url, name="Other")
        broadcast = post_broadcast(admin, audience(workspace, 12, "C", long_every=2), {"eng": SHORT, "fra": LONG})
        busy = post_broadcast(admin, audience(workspace, 10, "D"), {"eng": "Elsewhere"})
        Msg.objects.filter(broadcast=busy).update(channel=other)
        sends = Sends(monkeypatch)
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
    assert sends.none_early(gateway)
    assert sends.busiest() <= 6
    figures(turns=len(turns), busiest_second_planned=sends.busiest(), busiest_second_on_the_wire=on_the_wire(gateway))


@pytest.mark.parametrize("tps", [20, None])
def test_a_capped_broadcast_goes_at_its_cap_while_another_goes_at_the_channels_pace(
    workspace, admin, gateway, settings, monkeypatch, tps
):
    settings.CHANNEL_SEND_TIMEOUT = settings.CHANNEL_CONNECT_TIMEOUT = 10  # a busy machine's slow answers: no errors
    gateway_channel(workspace, gateway.url, tps=tps)
    capped = post_broadcast(admin, audience(workspace, 7, "E"), {"eng": "Slowly"}, max_per_second=2)
    free = post_broadcast(admin, audience(workspace, 30, "F"), {"eng": "Quickly"})  # queued behind the capped one
    sends = Sends(monkeypatch)

    delivery.deliver(Msg.objects.filter(broadcast=capped).first().channel_id)

    assert (wired(capped), wired(free)) == ({MsgStatus.WIRED: 7}, {MsgStatus.WIRED: 30})
    assert one_each(gateway)
    assert sends.none_early(gateway)
    assert sends.busiest("Slowly") == 2
    # The other broadcast was neither held to the cap nor kept behind the capped one's backlog: its sends went at
    # the channel's pace while the capped one still had messages to send.
    # A second holds the channel's tps less what the capped one took in it (2 at most, fewer in a window where its
    # budget was spent just before).
    assert (20 - 2 <= sends.busiest("Quickly") <= 20) if tps else sends.busiest("Quickly") == 30
    last = {text: max(at for at, _, t, _ in sends.planned if t == text) for text in ("Slowly", "Quickly")}
    assert last["Quickly"] < last["Slowly"]
    if tps:
        assert sends.busiest() == tps


def test_a_message_sent_on_its_own_jumps_ahead_of_a_capped_broadcast(workspace, admin, gateway, monkeypatch):
    channel = gateway_channel(workspace, gateway.url, tps=20)
    capped = post_broadcast(admin, audience(workspace, 4, "G"), {"eng": "Slowly"}, max_per_second=1)
    joe = Msg.objects.filter(broadcast=capped).order_by("id").last().contact
    sends, real_submit = Sends(monkeypatch), delivery.Run._submit

    def submit(run, chunk):  # a spy: the first chunk is on its way when a reply is sent
        if not sends.chunks:
            response = admin.post(
                "/api/v2/messages.json", {"contact": str(joe.uuid), "text": "Just you"}, format="json"
            )
            assert response.status_code == 201, response.content
        return real_submit(run, chunk)

    monkeypatch.setattr(delivery.Run, "_submit", submit)
    delivery.deliver(channel.id)

    assert sends.chunks[0] == ["Slowly"]  # the cap's share of the first second
    assert sends.chunks[1][0] == "Just you"  # the very next chunk, ahead of the broadcast's next message
    assert [r.json["text"] for r in gateway.requests].count("Just you") == 1
    assert sends.none_early(gateway)
    assert sends.busiest("Slowly") == 1
    assert wired(capped) == {MsgStatus.WIRED: 4}
