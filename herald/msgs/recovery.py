"""Finding work that a crash, a restart or a lost task left behind."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from herald.channels.models import Channel

from .models import Broadcast, Msg, due_to_begin, scheduled_and_waiting


def stalled_broadcasts() -> list[int]:
    """Broadcasts to start or resume: those not finished and not touched for a while (their task was lost or their
    worker died), and scheduled ones whose time has come and that are still pending.

    A scheduled one is left one tick period to its own start task (queued for its time), then started rather than
    after the quiet time: that task may be held by a worker that died, and a second start is harmless (only one
    claims it, fanout._claim). Starting it at once too would queue a duplicate of every on-time start, which
    delayed the others (bench/RESULTS.md). One not yet due is never returned (nor could it be claimed)."""
    now = timezone.now()
    quiet_since = now - timedelta(seconds=settings.BROADCAST_STALL_SECONDS)
    quiet = Q(status__in=Broadcast.NOT_FINISHED, modified_on__lt=quiet_since)
    overdue = scheduled_and_waiting() & Q(send_at__lt=now - timedelta(seconds=settings.TICK_SECONDS))
    stalled = Broadcast.objects.filter(quiet | overdue).filter(due_to_begin(now))
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
