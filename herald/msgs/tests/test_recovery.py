"""The tick's safety net finds broadcasts that a crash or a lost task left unfinished, and only those, and the
channels whose messages are due."""

from datetime import timedelta

import pytest
from django.utils import timezone

from herald.msgs import delivery, recovery
from herald.msgs.models import Broadcast, BroadcastStatus, MsgDirection, MsgStatus
from herald.testing.factories import make_broadcast, make_contact, make_msg
from herald.testing.gateway import gateway_channel

pytestmark = pytest.mark.django_db


def quiet_for(broadcast, seconds: float) -> None:
    Broadcast.objects.filter(id=broadcast.id).update(modified_on=timezone.now() - timedelta(seconds=seconds))


@pytest.mark.parametrize("status", [BroadcastStatus.PENDING, BroadcastStatus.QUEUED, BroadcastStatus.STARTED])
def test_an_unfinished_broadcast_quiet_for_the_stall_time_is_found(settings, workspace, status):
    settings.BROADCAST_STALL_SECONDS = 30
    broadcast = make_broadcast(workspace, "Hi", status=status)
    quiet_for(broadcast, 29)
    assert recovery.stalled_broadcasts() == []  # quiet, not yet stalled
    quiet_for(broadcast, 31)
    # Found at every tick until a start task resumes it: the start itself lets only one of them work
    # (`fanout.split_into_ranges`), so the repeats cost nothing.
    assert recovery.stalled_broadcasts() == recovery.stalled_broadcasts() == [broadcast.id]


@pytest.mark.parametrize("status", [BroadcastStatus.COMPLETED, BroadcastStatus.FAILED, BroadcastStatus.INTERRUPTED])
def test_finished_broadcasts_are_left_alone(settings, workspace, status):
    settings.BROADCAST_STALL_SECONDS = 30
    quiet_for(make_broadcast(workspace, "Hi", status=status), 3600)
    assert recovery.stalled_broadcasts() == []


def test_messages_are_due_when_queued_or_errored_past_their_retry_time(workspace):
    """The one rule (`Msg.objects.due`) that the tick's "which channels have work" and the sender's "what to send
    next" both read."""
    now = timezone.now()
    busy, idle = (gateway_channel(workspace, "http://127.0.0.1:9", name=name) for name in ("Busy", "Idle"))
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"])
    queued = make_msg(ann, channel=busy, status=MsgStatus.QUEUED)
    retry_now = make_msg(ann, channel=busy, status=MsgStatus.ERRORED, next_attempt=now - timedelta(seconds=1))
    make_msg(ann, channel=busy, status=MsgStatus.WIRED)
    # Nothing due on the other channel: a retry still to come, an incoming message, a sent one.
    make_msg(ann, channel=idle, status=MsgStatus.ERRORED, next_attempt=now + timedelta(minutes=5))
    make_msg(ann, channel=idle, status=MsgStatus.QUEUED, direction=MsgDirection.IN)
    make_msg(ann, channel=idle, status=MsgStatus.SENT)

    assert recovery.channels_with_due_messages() == [busy.id]
    assert delivery.due_messages(busy.id, 10, now) == [queued, retry_now]
    assert delivery.due_messages(idle.id, 10, now) == []
