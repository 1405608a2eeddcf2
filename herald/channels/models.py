import uuid

from django.db import models
from django.utils import timezone

from herald.workspaces.models import Workspace


class Channel(models.Model):
    """Something that can deliver messages for some URN schemes: a console, an HTTP gateway, ..."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="channels")
    channel_type = models.CharField(max_length=32)
    name = models.CharField(max_length=64)
    address = models.CharField(max_length=255, blank=True, default="")
    schemes = models.JSONField(default=list)
    country = models.CharField(max_length=2, blank=True, default="")
    # Messages per second this channel may send; null means unlimited.
    tps = models.PositiveIntegerField(null=True, blank=True)
    config = models.JSONField(default=dict)
    is_active = models.BooleanField(default=True)
    created_on = models.DateTimeField(default=timezone.now)
    # Delivery lease: one worker at a time sends for a channel, which keeps its rate limit exact across machines.
    # A worker that dies simply lets the lease expire.
    send_lease_owner = models.CharField(max_length=64, blank=True, default="")
    send_lease_until = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.name
