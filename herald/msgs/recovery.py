"""Finding work that a crash, a restart or a lost task left behind."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from herald.channels.models import Channel

from .models import Broadcast, BroadcastStatus, Msg, MsgStatus

UNFINISHED = (BroadcastStatus.PENDING, BroadcastStatus.QUEUED, BroadcastStatus.STARTED)


def stalled_broadcasts() -> list[int]:
    """Broadcasts not finished and not touched for a while (their task was lost or their worker died), claimed.

    Claiming touches each one, so the next ticks leave it alone while its resumed fan-out gets going (a broadcast
    found again at every tick would pile a start task per second into a busy queue), and of two ticks racing,
    one resumes it. If the resumed start is lost too, the broadcast stalls again and is found again.
    """
    quiet_since = timezone.now() - timedelta(seconds=settings.BROADCAST_STALL_SECONDS)
    stalled = Broadcast.objects.filter(status__in=UNFINISHED, modified_on__lt=quiet_since)
    claimed = []
    for broadcast_id in stalled.values_list("id", flat=True):
        if stalled.filter(id=broadcast_id).update(modified_on=timezone.now()):
            claimed.append(broadcast_id)
    return claimed


def channels_with_due_messages() -> list[int]:
    """Active channels that have queued messages, or errored ones whose retry time has come, and no live sender."""
    now = timezone.now()
    due = Q(status=MsgStatus.QUEUED) | Q(status=MsgStatus.ERRORED, next_attempt__lte=now)
    channel_ids = set(
        Msg.objects.filter(due, channel__isnull=False, direction="O").values_list("channel_id", flat=True).distinct()
    )
    if not channel_ids:
        return []
    return list(
        Channel.objects.filter(id__in=channel_ids, is_active=True)
        .filter(Q(send_lease_until__isnull=True) | Q(send_lease_until__lt=now))
        .values_list("id", flat=True)
    )
