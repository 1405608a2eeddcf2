"""`/api/v2/broadcast_actions.json`: pause, resume and interrupt up to 100 broadcasts (docs/COMPATIBILITY.md, C46),
each refusal a 400 that changes nothing. Sending goes to a real gateway on loopback; the pause latency and kills
with real processes are in herald/msgs/tests/test_control_live.py."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from herald.msgs import delivery, tasks
from herald.msgs.models import Broadcast, BroadcastStatus, Msg, MsgStatus
from herald.testing.factories import make_broadcast, make_contact, make_msg
from herald.testing.fixtures import poster, results
from herald.testing.gateway import gateway_channel

URL = "/api/v2/broadcast_actions.json"
act = poster(URL)
B, S = BroadcastStatus, MsgStatus


@pytest.fixture
def people(workspace):
    return [make_contact(workspace, f"Person {i}", [f"tel:+25078810000{i}"]) for i in range(4)]


def sending(workspace, people, channel, made: int | None = None, status=B.STARTED, **fields) -> Broadcast:
    """A broadcast to `people` whose fan-out has made the first `made` messages (all, by default), queued on
    `channel` and not yet sent."""
    made = len(people) if made is None else made
    broadcast = make_broadcast(
        workspace, "Hi", contacts=people, status=status, contact_count=len(people), msg_count=made, **fields
    )
    for person in people[:made]:
        make_msg(person, broadcast=broadcast, channel=channel, status=S.QUEUED)
    return broadcast


def statuses(broadcast) -> dict[str, int]:
    return dict(Counter(Msg.objects.filter(broadcast=broadcast).values_list("status", flat=True)))


def listed(admin, broadcast, **params) -> list[dict]:
    return results(admin.get("/api/v2/messages.json", {"broadcast": str(broadcast.uuid), **params}))


def status_of(admin, broadcast) -> str:
    (shown,) = results(admin.get("/api/v2/broadcasts.json", {"uuid": str(broadcast.uuid)}))
    return shown["status"]


def snapshot(*broadcasts) -> list:
    return [
        (b.status, b.paused_from, sorted(Msg.objects.filter(broadcast_id=b.id).values_list("id", "status")))
        for b in Broadcast.objects.filter(id__in=[b.id for b in broadcasts]).order_by("id")
    ]


# Access and shape


def test_only_post_is_served_and_admins_and_editors_may_act(workspace, admin, assert_roles):
    first, second = make_broadcast(workspace), make_broadcast(workspace)
    assert_roles(
        URL,
        post={
            "anon": ({}, 403),
            "agent": ({"broadcasts": [str(first.uuid)], "action": "pause"}, 403),
            "editor": ({"broadcasts": [str(first.uuid)], "action": "pause"}, 204),
            "admin": ({"broadcasts": [second.id], "action": "pause"}, 204),
        },
    )
    assert admin.get(URL).status_code == 405
    assert admin.delete(URL).status_code == 405


def test_unknown_foreign_empty_and_too_many_are_refused_and_nothing_changes(workspace, other_workspace, admin):
    mine, foreign = make_broadcast(workspace), make_broadcast(other_workspace)
    before = snapshot(mine, foreign)

    def refused(refs, verb, **errors):
        return {"broadcasts": refs, "action": verb}, errors

    refusals = [
        refused([str(mine.uuid), str(foreign.uuid)], "pause", broadcasts=[f"No such object: {foreign.uuid}"]),
        refused([mine.id, foreign.id], "pause", broadcasts=[f"No such object: {foreign.id}"]),
        refused(["nope"], "pause", broadcasts=["No such object: nope"]),
        refused([10**20], "pause", broadcasts=[f"No such object: {10**20}"]),
        refused([], "pause", broadcasts=["Broadcasts can't be empty."]),
        refused([mine.id] * 101, "pause", broadcasts=["Ensure this field has no more than 100 elements."]),
        refused(str(mine.uuid), "pause", broadcasts=['Expected a list of items but got type "str".']),
        refused([mine.id], "stop", action=['"stop" is not a valid choice.']),
        ({"broadcasts": [mine.id]}, {"action": ["This field is required."]}),
    ]
    for body, errors in refusals:
        response = act(admin, body)
        assert (response.status_code, response.json()) == (400, errors), body
    assert snapshot(mine, foreign) == before


def test_an_action_meaningless_in_a_state_is_a_400_naming_the_broadcast_and_state(workspace, admin, people, gateway):
    channel = gateway_channel(workspace, gateway.url)
    started = sending(workspace, people, channel)
    done = make_broadcast(workspace, status=B.COMPLETED)
    interrupted = make_broadcast(workspace, status=B.INTERRUPTED)
    scheduled = make_broadcast(workspace, send_at=timezone.now() + timedelta(hours=1))
    paused = make_broadcast(workspace, status=B.PAUSED, paused_from=B.STARTED)
    before = snapshot(started, done, interrupted, scheduled, paused)
    cases = [
        ("resume", [started], f"Broadcast {started.uuid} can't be resumed: it is started."),
        ("resume", [scheduled], f"Broadcast {scheduled.uuid} can't be resumed: it is scheduled."),
        ("pause", [done], f"Broadcast {done.uuid} can't be paused: it is completed."),
        ("interrupt", [done], f"Broadcast {done.uuid} can't be interrupted: it is completed."),
        ("pause", [paused], f"Broadcast {paused.uuid} can't be paused: it is paused."),
        *[(action, [interrupted], f"Broadcast {interrupted.uuid} can't be {verb}: it is interrupted.")
          for action, verb in (("pause", "paused"), ("resume", "resumed"), ("interrupt", "interrupted"))],
        # One that may be paused beside one that may not: neither is.
        ("pause", [started, done], f"Broadcast {done.uuid} can't be paused: it is completed."),
    ]  # fmt: skip
    for action, broadcasts, message in cases:
        response = act(admin, {"broadcasts": [str(b.uuid) for b in broadcasts], "action": action})
        assert (response.status_code, response.json()) == (400, {"broadcasts": [message]}), (action, broadcasts)
    assert snapshot(started, done, interrupted, scheduled, paused) == before


# pause and resume


@pytest.mark.django_db(transaction=True)  # commits as a real request does, so what resume queues runs
def test_pause_holds_its_messages_which_still_list_as_queued_and_resume_sends_each_once(
    workspace, admin, people, gateway, eager_tasks
):
    channel = gateway_channel(workspace, gateway.url)
    broadcast = sending(workspace, people, channel)
    other = sending(workspace, people[:1], channel)  # another broadcast on the channel goes on

    assert act(admin, {"broadcasts": [str(broadcast.uuid)], "action": "pause"}).status_code == 204
    assert status_of(admin, broadcast) == "paused"
    assert statuses(broadcast) == {S.HELD_QUEUED: 4}
    assert {m["status"] for m in listed(admin, broadcast, status="queued")} == {"queued"}
    outbox = results(admin.get("/api/v2/messages.json", {"folder": "outbox"}))
    assert Counter(m["broadcast"] for m in outbox) == {broadcast.id: 4, other.id: 1}

    delivery.deliver(channel.id)  # a sender's turn: only the other broadcast's message is due
    assert [r.json["id"] for r in gateway.requests] == [str(Msg.objects.get(broadcast=other).uuid)]
    assert statuses(broadcast) == {S.HELD_QUEUED: 4}

    assert act(admin, {"broadcasts": [broadcast.id], "action": "resume"}).status_code == 204
    assert status_of(admin, broadcast) == "completed"  # its fan-out, started again, found everyone has a message
    assert statuses(broadcast) == {S.WIRED: 4}
    sent = Counter(r.json["id"] for r in gateway.requests)
    assert sent == Counter(
        {str(u): 1 for u in Msg.objects.filter(broadcast__in=[broadcast, other]).values_list("uuid", flat=True)}
    )


@pytest.mark.django_db(transaction=True)
def test_resume_fans_out_the_recipients_the_pause_stopped_each_once(workspace, admin, people, gateway, eager_tasks):
    channel = gateway_channel(workspace, gateway.url)
    broadcast = sending(workspace, people, channel, made=1)  # the fan-out had reached one of four
    assert act(admin, {"broadcasts": [str(broadcast.uuid)], "action": "pause"}).status_code == 204
    tasks.tick()  # a paused broadcast is not "stalled": the tick leaves it alone
    assert statuses(broadcast) == {S.HELD_QUEUED: 1}

    assert act(admin, {"broadcasts": [str(broadcast.uuid)], "action": "resume"}).status_code == 204
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.msg_count) == (B.COMPLETED, 4)
    assert statuses(broadcast) == {S.WIRED: 4}
    assert sorted(Counter(r.json["to"] for r in gateway.requests).values()) == [1, 1, 1, 1]


def test_a_held_errored_message_keeps_its_retry_time_and_count(workspace, admin, people, gateway):
    channel = gateway_channel(workspace, gateway.url)
    broadcast = sending(workspace, people[:1], channel, made=0)
    retry_at = timezone.now() + timedelta(seconds=30)
    msg = make_msg(
        people[0], broadcast=broadcast, channel=channel, status=S.ERRORED, error_count=2, next_attempt=retry_at
    )

    assert act(admin, {"broadcasts": [str(broadcast.uuid)], "action": "pause"}).status_code == 204
    msg.refresh_from_db()
    assert (msg.status, msg.error_count, msg.next_attempt) == (S.HELD_ERRORED, 2, retry_at)
    assert [m["status"] for m in listed(admin, broadcast)] == ["errored"]

    assert act(admin, {"broadcasts": [str(broadcast.uuid)], "action": "resume"}).status_code == 204
    msg.refresh_from_db()
    assert (msg.status, msg.error_count, msg.next_attempt) == (S.ERRORED, 2, retry_at)


@pytest.mark.django_db(transaction=True)
def test_a_completed_broadcast_still_sending_may_be_paused_and_resumed(workspace, admin, people, gateway, eager_tasks):
    channel = gateway_channel(workspace, gateway.url)
    broadcast = sending(workspace, people, channel, status=B.COMPLETED)
    assert act(admin, {"broadcasts": [str(broadcast.uuid)], "action": "pause"}).status_code == 204
    assert status_of(admin, broadcast) == "paused"
    assert act(admin, {"broadcasts": [str(broadcast.uuid)], "action": "resume"}).status_code == 204
    assert status_of(admin, broadcast) == "completed"
    assert statuses(broadcast) == {S.WIRED: 4}
    assert len(gateway.requests) == 4


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_broadcast_paused_doesnt_begin_until_resumed(workspace, admin, people, gateway, eager_tasks):
    gateway_channel(workspace, gateway.url)
    broadcast = make_broadcast(workspace, contacts=people, send_at=timezone.now() + timedelta(hours=1))
    assert act(admin, {"broadcasts": [str(broadcast.uuid)], "action": "pause"}).status_code == 204
    Broadcast.objects.filter(id=broadcast.id).update(send_at=timezone.now() - timedelta(minutes=5))  # now due
    tasks.tick()
    assert status_of(admin, broadcast) == "paused"
    assert not Msg.objects.filter(broadcast=broadcast).exists()

    assert act(admin, {"broadcasts": [str(broadcast.uuid)], "action": "resume"}).status_code == 204
    assert status_of(admin, broadcast) == "completed"
    assert statuses(broadcast) == {S.WIRED: 4}
    assert len(gateway.requests) == 4


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_broadcast_resumed_before_its_time_waits_for_it(workspace, admin, people, eager_tasks):
    broadcast = make_broadcast(workspace, contacts=people, send_at=timezone.now() + timedelta(hours=1))
    assert act(admin, {"broadcasts": [str(broadcast.uuid)], "action": "pause"}).status_code == 204
    assert act(admin, {"broadcasts": [str(broadcast.uuid)], "action": "resume"}).status_code == 204
    tasks.tick()
    assert status_of(admin, broadcast) == "pending"
    assert not Msg.objects.filter(broadcast=broadcast).exists()


# interrupt


@pytest.mark.django_db(transaction=True)
def test_interrupt_fails_what_was_not_sent_as_interrupted_and_nothing_more_goes(
    workspace, admin, people, gateway, eager_tasks
):
    channel = gateway_channel(workspace, gateway.url)
    broadcast = sending(workspace, people, channel, made=3)  # one recipient not reached yet
    Msg.objects.filter(id=Msg.objects.filter(broadcast=broadcast).order_by("id")[0].id).update(status=S.WIRED)

    assert act(admin, {"broadcasts": [str(broadcast.uuid)], "action": "interrupt"}).status_code == 204
    assert status_of(admin, broadcast) == "interrupted"
    assert statuses(broadcast) == {S.WIRED: 1, S.FAILED: 2}
    failed = listed(admin, broadcast, status="failed")
    assert [(m["failed_reason"], m["failed_detail"]) for m in failed] == [
        ("interrupted", "the broadcast was interrupted before the message was sent")
    ] * 2

    delivery.deliver(channel.id)
    tasks.tick()
    assert gateway.requests == []
    assert Msg.objects.filter(broadcast=broadcast).count() == 3  # its fan-out stopped


@pytest.mark.django_db(transaction=True)
def test_interrupting_a_scheduled_broadcast_ends_it_before_it_begins(workspace, admin, people, gateway, eager_tasks):
    gateway_channel(workspace, gateway.url)
    broadcast = make_broadcast(workspace, contacts=people, send_at=timezone.now() + timedelta(hours=1))
    assert act(admin, {"broadcasts": [str(broadcast.uuid)], "action": "interrupt"}).status_code == 204
    Broadcast.objects.filter(id=broadcast.id).update(send_at=timezone.now() - timedelta(minutes=5))
    tasks.tick()
    assert status_of(admin, broadcast) == "interrupted"
    assert not Msg.objects.filter(broadcast=broadcast).exists()
    assert gateway.requests == []


def test_a_paused_broadcast_may_be_interrupted(workspace, admin, people, gateway):
    channel = gateway_channel(workspace, gateway.url)
    broadcast = sending(workspace, people, channel)
    assert act(admin, {"broadcasts": [str(broadcast.uuid)], "action": "pause"}).status_code == 204
    assert act(admin, {"broadcasts": [str(broadcast.uuid)], "action": "interrupt"}).status_code == 204
    assert status_of(admin, broadcast) == "interrupted"
    assert statuses(broadcast) == {S.FAILED: 4}
