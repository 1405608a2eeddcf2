from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from uuid6 import uuid7

from herald.channels.models import Channel, Template
from herald.contacts.models import Contact, ContactGroup, ContactURN
from herald.workspaces.models import Workspace

from .content import Translations
from .recurrence import Recurrence


class BroadcastStatus(models.TextChoices):
    PENDING = "P", "pending"
    QUEUED = "Q", "queued"
    STARTED = "S", "started"
    COMPLETED = "C", "completed"
    FAILED = "F", "failed"
    INTERRUPTED = "I", "interrupted"
    # Held by `broadcast_actions.json` until resumed (msgs/control.py); `paused_from` says what it resumes to.
    PAUSED = "U", "paused"


class Broadcast(models.Model):
    """One message, in several languages, addressed to URNs, contacts and groups.

    `translations` is stored as `content.Translations` describes (read it through `content`); `base_language` is one
    of its keys.
    """

    MAX_TEXT_LEN = 4096
    MAX_ATTACHMENTS = 10
    MAX_QUICK_REPLIES = 10

    # The status sets, named for what reads them.
    FINISHED = (BroadcastStatus.COMPLETED, BroadcastStatus.FAILED, BroadcastStatus.INTERRUPTED)
    # Claimed by a fan-out attempt: worked on, resumed when it goes quiet, completed when nobody is left.
    IN_PROGRESS = (BroadcastStatus.QUEUED, BroadcastStatus.STARTED)
    # Not finished, pending ones too: the tick starts or resumes these, a fan-out that keeps failing fails them.
    NOT_FINISHED = (BroadcastStatus.PENDING, *IN_PROGRESS)

    uuid = models.UUIDField(default=uuid7, unique=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="broadcasts")
    status = models.CharField(max_length=1, choices=BroadcastStatus.choices, default=BroadcastStatus.PENDING)
    translations = models.JSONField(default=dict)
    base_language = models.CharField(max_length=3)
    urns = models.JSONField(default=list)
    contacts = models.ManyToManyField(Contact, related_name="addressed_by", blank=True)
    groups = models.ManyToManyField(ContactGroup, related_name="addressed_by", blank=True)
    # Number of resolved recipients; null until they are counted.
    contact_count = models.IntegerField(null=True, blank=True)
    # Number of messages created so far (API progress.started); kept by the fan-out, never counted per request.
    msg_count = models.IntegerField(default=0)
    # Fan-out attempts in a row that failed: an attempt counts while it works (so one whose worker is killed stays
    # counted), every batch of messages written clears the count. At settings.BROADCAST_MAX_FAILURES the broadcast
    # is failed instead of claimed again (see fanout.py).
    failures = models.PositiveSmallIntegerField(default=0)
    # When the fan-out may begin (null: at once). Until then the broadcast stays pending and no task may claim it
    # (fanout._claim); its start is queued for then, and the tick starts it if that task is lost (tasks, recovery).
    send_at = models.DateTimeField(null=True, blank=True)
    # When its messages may be handed to a channel (`herald.workspaces.send_window`'s JSON, its zone filled in), null
    # for any time: the workspace's default copied at creation unless the POST said otherwise. Messages due while it
    # is closed wait with `next_attempt` at its next opening (see msgs/windows.py).
    send_window = models.JSONField(null=True, blank=True)
    # The opening its waiting messages were last made to wait for (by the fan-out, or by the tick when the window
    # closed: windows.hold_closed_broadcasts), so the tick holds them once per closing; windows.NOTHING_LEFT_TO_HOLD
    # once it is completed and nothing of it waits any more.
    window_held_until = models.DateTimeField(null=True, blank=True)
    # A repeating broadcast's occurrences are its children (`schedules`): `parent` is the broadcast whose schedule
    # made this one, `occurrence` the occurrence it was made for (one child per occurrence: the constraint below).
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children", db_index=False
    )
    occurrence = models.DateTimeField(null=True, blank=True)
    # When messages not yet handed to a channel fail instead (FailedReason.EXPIRED; msgs/control.py); `expired_on`
    # is when the tick (or the pre-send gate) did it, so it is done once.
    expire_at = models.DateTimeField(null=True, blank=True)
    expired_on = models.DateTimeField(null=True, blank=True)
    # The status a paused broadcast had, and gets back when it is resumed (blank unless paused).
    paused_from = models.CharField(max_length=1, choices=BroadcastStatus.choices, blank=True, default="")
    # At most this many of its messages handed over a second, per channel (SMS segments for tel URNs, as the
    # channel's tps counts them: delivery, pacing.py); null: only the channel's pace.
    max_per_second = models.PositiveIntegerField(null=True, blank=True)
    # Recipients the fan-out gave a message that can't go out, by why (`exclusions.EXCLUSIONS`: blocked, no_urn ...),
    # added with each batch it writes; what a dry run reports as `excluded`.
    exclusions = models.JSONField(default=dict, blank=True)
    # A provider's message template (WhatsApp's) its messages go as where their channel has it approved, with
    # `template_variables` (expressions, rendered per contact like the text) filling the template body's {{1}}, {{2}}
    # ...; elsewhere the text goes. See compose.py (`templating`) and herald/channels/templates.py. Both null without
    # a template. No default and no database constraint: on SQLite either would make adding or dropping the column
    # rebuild the table, which its counting triggers (migration 0013) refuse; Django keeps SET_NULL itself.
    template = models.ForeignKey(
        Template,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="broadcasts",
        db_index=False,
        db_constraint=False,
    )
    template_variables = models.JSONField(null=True, blank=True)
    # Not columns: the API sets them on a page of broadcasts (api/v2/broadcasts.py, attach_recipient_refs).
    contact_refs: list[dict[str, str | None]]
    group_refs: list[dict[str, str | None]]
    msg_counts: dict[tuple[str, str], int]  # (status, reason) -> messages, from counts.counts_by_broadcast
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_on = models.DateTimeField(default=timezone.now)
    modified_on = models.DateTimeField(default=timezone.now)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            # Two workers firing one occurrence at once (or one again after a crash) make one child: the second
            # create fails on this key (schedules.fire).
            models.UniqueConstraint(
                fields=["parent", "occurrence"],
                condition=models.Q(parent__isnull=False),
                name="bcast_once_per_occurrence",
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "-created_on", "-id"], name="broadcasts_api_order"),
            # The tick's "which broadcasts expire now" (control.expiring): only those still to expire are indexed.
            models.Index(
                fields=["expire_at"],
                condition=Q(expire_at__isnull=False, expired_on__isnull=True),
                name="broadcasts_to_expire",
            ),
        ]

    def __str__(self) -> str:
        return str(self.uuid)

    @property
    def content(self) -> Translations:
        return Translations(self.translations)


def due_to_begin(now: datetime) -> Q:
    """Broadcasts that may begin at `now`: unscheduled ones, and scheduled ones whose time has come. A repeating
    broadcast never begins itself: its occurrences are children that do (schedules.py)."""
    return (Q(send_at__isnull=True) | Q(send_at__lte=now)) & Q(schedule__isnull=True)


class BroadcastSchedule(models.Model):
    """How a broadcast repeats: its occurrences (`recurrence.Recurrence` of `rule`, `timezone`, `start`, `until`)
    each make a child broadcast (`schedules.fire`). `next_fire` is the next occurrence to make, null once the
    schedule has ended (`is_active` false): run out, or ended through the API."""

    broadcast = models.OneToOneField(Broadcast, on_delete=models.CASCADE, related_name="schedule")
    # The word it was asked with (recurrence.REPEATS), or null for an RRULE given as such.
    repeat = models.CharField(max_length=8, null=True, blank=True)
    rule = models.CharField(max_length=500)
    start = models.DateTimeField()
    until = models.DateTimeField(null=True, blank=True)
    next_fire = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # Occurrences that came and went while nothing ran (an outage longer than schedules.GRACE): skipped, counted.
    missed = models.PositiveIntegerField(default=0)
    created_on = models.DateTimeField(default=timezone.now)
    modified_on = models.DateTimeField(default=timezone.now)
    # The IANA name its local times are read in. Declared after the uses of django.utils.timezone above: the field's
    # name hides the module from here on in this class body.
    timezone = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["next_fire"], condition=Q(is_active=True), name="schedules_due")]

    def __str__(self) -> str:
        return f"{self.rule} in {self.timezone}"

    @property
    def recurrence(self) -> Recurrence:
        return Recurrence(self.rule, self.timezone, self.start, self.until)


def scheduled_and_waiting() -> Q:
    """Scheduled broadcasts that have not begun (a due one until its start claims it, a moment later)."""
    return Q(status=BroadcastStatus.PENDING, send_at__isnull=False)


class MsgStatus(models.TextChoices):
    PENDING = "P", "pending"
    HANDLED = "H", "handled"
    INITIALIZING = "I", "initializing"
    QUEUED = "Q", "queued"
    WIRED = "W", "wired"
    SENT = "S", "sent"
    DELIVERED = "D", "delivered"
    READ = "R", "read"
    ERRORED = "E", "errored"
    FAILED = "F", "failed"
    # A paused broadcast's messages, out of the delivery scan (`due` never sees them) until it is resumed: queued
    # ones, and errored ones (keeping their `error_count` and `next_attempt`). The API shows them as queued /
    # errored (msgs/control.py, docs/COMPATIBILITY.md C47).
    HELD_QUEUED = "K", "held queued"
    HELD_ERRORED = "L", "held errored"


class MsgDirection(models.TextChoices):
    IN = "I", "in"
    OUT = "O", "out"


class MsgVisibility(models.TextChoices):
    VISIBLE = "V", "visible"
    ARCHIVED = "A", "archived"
    DELETED = "D", "deleted"


class MsgFolder(models.TextChoices):
    """RapidPro's system folders (`temba/msgs/models.py` `MsgFolder`), as `messages.json?folder=` names them."""

    INBOX = "inbox"
    # Every incoming message, in the inbox or archived: older RapidPro's folder, which the official client still
    # names (docs/COMPATIBILITY.md, C60).
    INCOMING = "incoming"
    FLOWS = "flows"
    ARCHIVED = "archived"
    OUTBOX = "outbox"
    SENT = "sent"
    FAILED = "failed"


FOLDER_QUERIES: dict[str, Q] = {
    MsgFolder.INBOX: Q(direction=MsgDirection.IN, visibility=MsgVisibility.VISIBLE, status=MsgStatus.HANDLED),
    MsgFolder.INCOMING: Q(
        direction=MsgDirection.IN,
        visibility__in=[MsgVisibility.VISIBLE, MsgVisibility.ARCHIVED],
        status=MsgStatus.HANDLED,
    ),
    MsgFolder.FLOWS: Q(pk__in=[]),  # incoming messages handled by a flow: Herald runs no flows
    MsgFolder.ARCHIVED: Q(direction=MsgDirection.IN, visibility=MsgVisibility.ARCHIVED, status=MsgStatus.HANDLED),
    MsgFolder.OUTBOX: Q(
        direction=MsgDirection.OUT,
        visibility=MsgVisibility.VISIBLE,
        status__in=[
            MsgStatus.INITIALIZING,
            MsgStatus.QUEUED,
            MsgStatus.ERRORED,
            MsgStatus.HELD_QUEUED,
            MsgStatus.HELD_ERRORED,
        ],
    ),
    MsgFolder.SENT: Q(
        direction=MsgDirection.OUT,
        visibility=MsgVisibility.VISIBLE,
        status__in=[MsgStatus.WIRED, MsgStatus.SENT, MsgStatus.DELIVERED, MsgStatus.READ],
    ),
    MsgFolder.FAILED: Q(direction=MsgDirection.OUT, visibility=MsgVisibility.VISIBLE, status=MsgStatus.FAILED),
}


class MsgQuerySet(models.QuerySet["Msg"]):
    def outgoing(self) -> "MsgQuerySet":
        return self.filter(direction=MsgDirection.OUT)

    def incoming(self) -> "MsgQuerySet":
        return self.filter(direction=MsgDirection.IN)

    def due(self, now: datetime) -> "MsgQuerySet":
        """Outgoing messages waiting for their channel: queued, or errored, and their time has come (a queued one
        has a `next_attempt` only while its send window is closed: msgs/windows.py)."""
        queued = Q(status=MsgStatus.QUEUED) & (Q(next_attempt__isnull=True) | Q(next_attempt__lte=now))
        return self.outgoing().filter(queued | Q(status=MsgStatus.ERRORED, next_attempt__lte=now))

    def in_folder(self, name: str) -> "MsgQuerySet":
        """The messages in folder `name` (a MsgFolder value); an unknown folder holds nothing."""
        return self.filter(FOLDER_QUERIES.get(name, Q(pk__in=[])))


class FailedReason(models.TextChoices):
    CONTACT = "C", "contact is no longer active"
    NO_DESTINATION = "D", "no channel can send to any of the contact's URNs"
    SUSPENDED = "S", "workspace is suspended"
    RETRIES = "E", "retry limit reached"
    PERMANENT = "P", "the channel refused the message"
    CHANNEL_REMOVED = "R", "channel removed"
    TOO_LONG = "T", "the text is too long once rendered"
    INTERRUPTED = "I", "the broadcast was interrupted before the message was sent"
    EXPIRED = "X", "the broadcast expired before the message was sent"


class Msg(models.Model):
    # A message whose text and quick replies are longer than this once rendered fails (FailedReason.TOO_LONG)
    # instead of going out: goflow's limit on an evaluated template (MaxTemplateChars). A broadcast's text is at
    # most Broadcast.MAX_TEXT_LEN before its `@fields...` are filled in.
    MAX_RENDERED_TEXT_LEN = 10_000

    # Time-ordered (version 7) like RapidPro's: inserts append to the uuid index rather than scatter in it.
    uuid = models.UUIDField(default=uuid7, unique=True)
    # No index of its own on these three: each leads one of the composite indexes below.
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="msgs", db_index=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="msgs")
    contact_urn = models.ForeignKey(ContactURN, on_delete=models.SET_NULL, null=True, blank=True)
    channel = models.ForeignKey(Channel, on_delete=models.SET_NULL, null=True, blank=True, db_index=False)
    broadcast = models.ForeignKey(
        Broadcast, on_delete=models.CASCADE, null=True, blank=True, related_name="msgs", db_index=False
    )
    text = models.TextField(blank=True, default="")
    attachments = models.JSONField(default=list)
    quick_replies = models.JSONField(default=list)
    # Sent as a provider's template instead of the text (RapidPro's Msg.templating): `{"template": {"uuid", "name"},
    # "language", "namespace", "variables": [rendered body values]}` for the channel's translation, made at fan-out
    # (compose.py) so the channel needs no query and no msgs code; null for a plain message.
    templating = models.JSONField(null=True, blank=True)
    locale = models.CharField(max_length=8, null=True, blank=True)
    direction = models.CharField(max_length=1, choices=MsgDirection.choices, default=MsgDirection.OUT)
    msg_type = models.CharField(max_length=1, choices=[("T", "text")], default="T")
    status = models.CharField(max_length=1, choices=MsgStatus.choices, default=MsgStatus.QUEUED)
    visibility = models.CharField(max_length=1, choices=MsgVisibility.choices, default=MsgVisibility.VISIBLE)
    # SMS segments for tel URNs, else 1.
    msg_count = models.IntegerField(default=1)
    failed_reason = models.CharField(max_length=1, choices=FailedReason.choices, null=True, blank=True)
    # Human-readable detail of the last error (gateway answer, exception), for the sender.
    error_detail = models.TextField(blank=True, default="")
    error_count = models.IntegerField(default=0)
    next_attempt = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=255, null=True, blank=True)
    created_on = models.DateTimeField(default=timezone.now)
    modified_on = models.DateTimeField(default=timezone.now)
    sent_on = models.DateTimeField(null=True, blank=True)
    # An incoming message's: the outgoing message it answers (the last one sent to its URN on its channel, within
    # settings.REPLY_WINDOW_HOURS), whose broadcast it is listed with (`inbound.py`).
    response_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="responses")

    objects = MsgQuerySet.as_manager()

    class Meta:
        constraints = [
            # The fan-out may run a batch twice after a crash; this key makes the second run create nothing.
            models.UniqueConstraint(
                fields=["broadcast", "contact"], condition=models.Q(broadcast__isnull=False), name="msg_once_per_bcast"
            ),
            # A provider retrying a callback with its message id stores one incoming message (`inbound.py`).
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=models.Q(direction="I", external_id__isnull=False),
                name="msg_in_once_per_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "-created_on", "-id"], name="msgs_api_order"),
            # Provider delivery reports that name a message by the provider's id for it (WhatsApp's wamid, Africa's
            # Talking's id): `reports.apply_report`.
            models.Index(
                fields=["channel", "external_id"],
                condition=models.Q(direction="O", external_id__isnull=False),
                name="msg_out_by_external_id",
            ),
            models.Index(fields=["broadcast", "-created_on", "-id"], name="msgs_broadcast_order"),
            # A broadcast's messages of one status, newest first (its web page's filters): without it, the delivered
            # ones of a broadcast still sending are found by reading past every queued one (bench/web.py).
            models.Index(fields=["broadcast", "status", "-created_on", "-id"], name="msgs_broadcast_status"),
            # The delivery loop's "what is due on this channel" scan.
            models.Index(fields=["channel", "status", "next_attempt", "id"], name="msgs_outbox"),
            # The same scan for messages sent on their own, which go first (delivery.due_messages): an index of
            # those alone, so finding them never reads a broadcast's backlog.
            models.Index(
                fields=["channel", "status", "next_attempt", "id"],
                condition=models.Q(broadcast__isnull=True),
                name="msgs_outbox_single",
            ),
            # What an incoming message answers: the last message sent to its URN on its channel.
            models.Index(
                fields=["contact_urn", "channel", "-created_on"],
                condition=models.Q(direction="O"),
                name="msgs_last_out_per_urn",
            ),
        ]

    def __str__(self) -> str:
        return str(self.uuid)


class BroadcastCount(models.Model):
    """How many of a broadcast's outgoing messages have a status (and, failed ones, a reason): kept by database
    triggers on the messages table, whatever writes it (migration 0013, `counts.py`), never counted per request.

    `reason` is the failed reason of failed messages, "" for every other status. A row is either a delta, added by
    one statement's changes (PostgreSQL: insert-only, so concurrent writers never wait on each other), or the
    broadcast's squashed sum for that key (`squashed`, at most one per key), which the tick folds the deltas into
    (`counts.squash`). SQLite's triggers add to the squashed rows directly. A broadcast's count is the sum of its rows.
    """

    # No foreign key in the database: rows are only written by triggers, and deleted with their broadcast by one.
    broadcast = models.ForeignKey(
        Broadcast, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    # Msg's codes, without its choices: a new status needs no migration here.
    status = models.CharField(max_length=1)
    reason = models.CharField(max_length=1, blank=True, default="")
    count = models.BigIntegerField()
    squashed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["broadcast", "status", "reason"], condition=Q(squashed=True), name="broadcast_count_squashed"
            )
        ]
        indexes = [
            models.Index(fields=["broadcast"], name="broadcast_counts"),
            # The tick's "which broadcasts have deltas to squash".
            models.Index(fields=["broadcast"], condition=Q(squashed=False), name="broadcast_counts_deltas"),
        ]

    def __str__(self) -> str:
        return f"broadcast {self.broadcast_id}: {self.count} {self.status}{self.reason}"
