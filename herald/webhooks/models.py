"""Subscriptions, the events they want (the outbox), and each event's delivery to each subscription with its
attempts."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from uuid6 import uuid7

from herald.workspaces.models import Workspace

# The event types, in the order the docs list them. `message.received` is emitted by inbound messages (see
# events.message_received).
EVENT_TYPES = (
    "broadcast.started",
    "broadcast.completed",
    "broadcast.interrupted",
    "broadcast.failed",
    "message.status",
    "message.received",
)
# The statuses a `message.status` event reports (what a message can move to), for a subscription's filter.
MESSAGE_STATUSES = ("wired", "sent", "delivered", "read", "errored", "failed")
MAX_URL_LENGTH = 2048
# The most events one POST carries for a subscription that takes batches (`Webhook.batch_size`).
MAX_BATCH_SIZE = 100


def new_secret() -> str:
    return secrets.token_hex(32)


class Webhook(models.Model):
    """A workspace's subscription: `url` receives the `events` it names (signed with `secret`)."""

    uuid = models.UUIDField(default=uuid7, unique=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="webhooks")
    url = models.CharField(max_length=MAX_URL_LENGTH)
    events = models.JSONField(default=list)
    # `message.status` events only for these statuses; empty: every status.
    statuses = models.JSONField(default=list)
    # Up to this many due events in one POST, as `{"events": [...]}`; 1: one event per POST, the event itself.
    batch_size = models.PositiveSmallIntegerField(default=1)
    # Kept because every delivery is signed with it; shown once, when the subscription is created.
    secret = models.CharField(max_length=64, default=new_secret)
    # A 410 answer ends the subscription: it stays listed, inactive, and gets nothing more.
    is_active = models.BooleanField(default=True)
    deactivated_reason = models.CharField(max_length=255, blank=True, default="")
    # One sender at a time per subscription (the bound on requests in flight to its URL): until when it is held.
    sending_until = models.DateTimeField(null=True, blank=True)
    sending_owner = models.CharField(max_length=32, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_on = models.DateTimeField(default=timezone.now)
    modified_on = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "url"], condition=Q(is_active=True), name="webhook_url_once")
        ]
        indexes = [models.Index(fields=["workspace", "-created_on", "-id"], name="webhooks_api_order")]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str, status: str | None = None) -> bool:
        if event_type not in self.events:
            return False
        return event_type != "message.status" or not self.statuses or status in self.statuses


class Event(models.Model):
    """Something that happened, with the object as the API showed it then (`data`). Written in the transaction of
    the change itself, so a crash can neither lose an event nor invent one."""

    uuid = models.UUIDField(default=uuid7, unique=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="webhook_events")
    type = models.CharField(max_length=32)
    data = models.JSONField(default=dict)
    # The broadcast a broadcast.* event is about: at most one event of each type per broadcast.
    subject_id = models.BigIntegerField(null=True, blank=True)
    created_on = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["type", "subject_id"], condition=Q(subject_id__isnull=False), name="webhook_event_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.uuid}"


class DeliveryStatus(models.TextChoices):
    PENDING = "P", "pending"
    DELIVERED = "D", "delivered"
    FAILED = "F", "failed"


class Delivery(models.Model):
    """One event on its way to one subscription."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=1, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt = models.DateTimeField(default=timezone.now)
    created_on = models.DateTimeField(default=timezone.now)
    modified_on = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["webhook", "event"], name="webhook_delivery_once")]
        indexes = [
            # The sender's "what is due for this subscription" scan, and the tick's "which have something due".
            models.Index(
                fields=["webhook", "next_attempt", "id"], condition=Q(status="P"), name="webhook_deliveries_due"
            ),
            models.Index(fields=["webhook", "-created_on", "-id"], name="webhook_deliveries_api"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.webhook_id}"


class Attempt(models.Model):
    """One POST of a delivery and what came of it."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    started_on = models.DateTimeField(default=timezone.now)
    # The receiver's HTTP status; null when there was no answer (timeout, connection error, refused address).
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    elapsed_ms = models.PositiveIntegerField(default=0)
    # The start of the answer's body, for the owner to read.
    response = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"
