"""Finding work that a crash, a restart or a lost task left behind."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from herald.channels.models import Channel

from .models import Broadcast, Msg


def stalled_broadcasts() -> list[int]:
    """Broadcasts not finished and not touched for a while: their task was lost or their worker died."""
    quiet_since = timezone.now() - timedelta(seconds=settings.BROADCAST_STALL_SECONDS)
    stalled = Broadcast.objects.filter(status__in=Broadcast.NOT_FINISHED, modified_on__lt=quiet_since)
    return list(stalled.values_list("id", flat=True))


def channels_with_due_messages() -> list[int]:
    """Active channels that have queued messages, or errored ones whose retry time has come, and no live sender."""
    now = timezone.now()
    channel_ids = set(
        Msg.objects.due(now).filter(channel__isnull=False).values_list("channel_id", flat=True).distinct()
    )
    if not channel_ids:
        return []
    return list(
        Channel.objects.filter(id__in=channel_ids, is_active=True)
        .filter(Q(send_lease_until__isnull=True) | Q(send_lease_until__lt=now))
        .values_list("id", flat=True)
    )
