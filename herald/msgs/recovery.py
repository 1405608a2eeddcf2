"""Finding work that a crash, a restart or a lost task left behind."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from herald.channels.models import Channel

from .models import Broadcast, BroadcastStatus, Msg, MsgStatus


def stalled_broadcasts() -> list[int]:
    """Broadcasts not finished and not touched for a while: their task was lost or their worker died."""
    quiet_since = timezone.now() - timedelta(seconds=settings.BROADCAST_STALL_SECONDS)
    unfinished = [BroadcastStatus.PENDING, BroadcastStatus.QUEUED, BroadcastStatus.STARTED]
    return list(
        Broadcast.objects.filter(status__in=unfinished, modified_on__lt=quiet_since).values_list("id", flat=True)
    )


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
