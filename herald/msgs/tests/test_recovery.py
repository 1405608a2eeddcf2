"""The tick's safety net finds broadcasts that a crash or a lost task left unfinished, and only those."""

from datetime import timedelta

import pytest
from django.utils import timezone

from herald.msgs import recovery
from herald.msgs.models import Broadcast, BroadcastStatus
from herald.testing.factories import make_broadcast

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
    # (`fanout.plan`), so the repeats cost nothing.
    assert recovery.stalled_broadcasts() == recovery.stalled_broadcasts() == [broadcast.id]


@pytest.mark.parametrize("status", [BroadcastStatus.COMPLETED, BroadcastStatus.FAILED, BroadcastStatus.INTERRUPTED])
def test_finished_broadcasts_are_left_alone(settings, workspace, status):
    settings.BROADCAST_STALL_SECONDS = 30
    quiet_for(make_broadcast(workspace, "Hi", status=status), 3600)
    assert recovery.stalled_broadcasts() == []
