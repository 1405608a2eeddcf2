"""Messages waiting for their send window (herald/msgs/windows.py): a queued message is due only once its
`next_attempt` has come; the tick holds a closed broadcast's waiting messages with one UPDATE per closing; the
check right before a hand-over; and what a hand-over the window refused records."""

from datetime import timedelta

import pytest
from django.utils import timezone

from herald.msgs import delivery, recovery, windows
from herald.msgs.models import Broadcast, BroadcastStatus, Msg, MsgStatus
from herald.msgs.status import record_send_results
from herald.testing.factories import make_broadcast, make_contact, make_msg
from herald.testing.gateway import gateway_channel
from herald.testing.windows import window_from_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(workspace):
    return gateway_channel(workspace, "http://127.0.0.1:9")


@pytest.fixture
def ann(workspace):
    return make_contact(workspace, "Ann", ["tel:+250788111111"])


def test_a_queued_message_waiting_for_its_window_is_not_due_until_then(workspace, channel, ann):
    now = timezone.now()
    waiting = make_msg(ann, channel=channel, status=MsgStatus.QUEUED, next_attempt=now + timedelta(hours=1))
    assert delivery.due_messages(channel.id, 10, now) == []
    assert recovery.channels_with_due_messages() == []
    assert not delivery.others_due(0, now)
    later = now + timedelta(hours=1)
    assert delivery.due_messages(channel.id, 10, later) == [waiting]
    assert delivery.others_due(0, later)


def test_the_tick_holds_a_closed_broadcasts_waiting_messages_once_per_closing(workspace, channel, ann):
    window, opens_at = window_from_now(3600, 60)
    broadcast = make_broadcast(workspace, send_window=window, status=BroadcastStatus.COMPLETED)
    bob = make_contact(workspace, "Bob", ["tel:+250788222222"])
    cat = make_contact(workspace, "Cat", ["tel:+250788333333"])
    queued = make_msg(ann, channel=channel, broadcast=broadcast, status=MsgStatus.QUEUED)
    retry = make_msg(bob, channel=channel, broadcast=broadcast, status=MsgStatus.ERRORED, error_count=1,
                     next_attempt=timezone.now())  # fmt: skip
    sent = make_msg(cat, channel=channel, broadcast=broadcast, status=MsgStatus.WIRED)
    other = make_msg(ann, channel=channel, status=MsgStatus.QUEUED)  # sent on its own: no broadcast, no window

    assert windows.hold_closed_broadcasts(timezone.now()) == 2
    assert {m.id: (m.status, m.next_attempt) for m in Msg.objects.all()} == {
        queued.id: (MsgStatus.QUEUED, opens_at),
        retry.id: (MsgStatus.ERRORED, opens_at),
        sent.id: (MsgStatus.WIRED, None),
        other.id: (MsgStatus.QUEUED, None),
    }
    broadcast.refresh_from_db()
    assert broadcast.window_held_until == opens_at
    assert windows.waiting_until(broadcast, timezone.now()) == opens_at
    # Held until the opening: the next ticks don't look at it again.
    assert windows.hold_closed_broadcasts(timezone.now()) == 0


def test_a_completed_broadcast_with_nothing_left_waiting_is_let_go(workspace, channel, ann):
    window, _ = window_from_now(3600, 60)
    broadcast = make_broadcast(workspace, send_window=window, status=BroadcastStatus.COMPLETED)
    make_msg(ann, channel=channel, broadcast=broadcast, status=MsgStatus.DELIVERED)
    assert windows.hold_closed_broadcasts(timezone.now()) == 0
    assert Broadcast.objects.get().window_held_until == windows.NOTHING_LEFT_TO_HOLD
    assert windows.waiting_until(Broadcast.objects.get(), timezone.now()) is None


def test_an_open_window_holds_nothing(workspace, channel, ann):
    window, _ = window_from_now(-60, 3600)
    broadcast = make_broadcast(workspace, send_window=window, status=BroadcastStatus.STARTED)
    make_msg(ann, channel=channel, broadcast=broadcast, status=MsgStatus.QUEUED)
    assert windows.hold_closed_broadcasts(timezone.now()) == 0
    assert Msg.objects.get().next_attempt is None
    assert Broadcast.objects.get().window_held_until is None


def test_the_check_before_a_hand_over_reads_the_window_with_the_chunk(workspace, channel, ann):
    closed, opens_at = window_from_now(3600, 60)
    open_, _ = window_from_now(-60, 3600)
    bob = make_contact(workspace, "Bob", ["tel:+250788222222"])
    in_closed = make_msg(ann, channel=channel, broadcast=make_broadcast(workspace, send_window=closed))
    in_open = make_msg(bob, channel=channel, broadcast=make_broadcast(workspace, send_window=open_))
    alone = make_msg(ann, channel=channel)
    chunk = {m.id: m for m in delivery.due_messages(channel.id, 10, timezone.now())}
    refused = windows.closed_at_hand_over(chunk[in_closed.id], timezone.now())
    assert isinstance(refused, windows.WindowClosed)
    assert refused.opens_at == opens_at
    assert windows.closed_at_hand_over(chunk[in_open.id], timezone.now()) is None
    assert windows.closed_at_hand_over(chunk[alone.id], timezone.now()) is None

    # Recorded: not an attempt, the message waits for the opening as it was.
    record_send_results([(chunk[in_closed.id], refused)], timezone.now())
    in_closed.refresh_from_db()
    assert (in_closed.status, in_closed.error_count, in_closed.next_attempt) == (MsgStatus.QUEUED, 0, opens_at)
