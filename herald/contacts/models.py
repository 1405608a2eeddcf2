import uuid

from django.conf import settings
from django.db import models
from django.db.models import Func, Q
from django.db.models.functions import Lower
from django.utils import timezone

from herald.workspaces.models import Workspace

from . import field_values


class ContactStatus(models.TextChoices):
    ACTIVE = "A", "active"
    BLOCKED = "B", "blocked"
    STOPPED = "S", "stopped"
    ARCHIVED = "V", "archived"


class StatusReason(models.TextChoices):
    """Why a contact's status last changed (contacts.json `status_reason`)."""

    STOP_KEYWORD = "stop_keyword", "the contact sent a stop word"
    START_KEYWORD = "start_keyword", "the contact sent a start word"
    PROVIDER_STOP = "provider_stop", "the channel's provider reported that the contact opted out"
    BLOCKED = "blocked", "blocked through contact_actions.json or the web interface"
    UNBLOCKED = "unblocked", "unblocked through contact_actions.json or the web interface"


class NameKey(Func):
    """A name as the name search compares it: lower case, in code point order (PostgreSQL's "C" collation; SQLite
    compares text that way already). In that order the names starting with "ab" are exactly those from "ab" up to
    "ac", so a prefix search is a range of one index, whatever collation the database has."""

    function = "LOWER"
    output_field = models.CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = self.as_sql(compiler, connection, **extra_context)
        return f'({sql}) COLLATE "C"', params


class Contact(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=64, null=True, blank=True)
    language = models.CharField(max_length=3, null=True, blank=True)
    status = models.CharField(max_length=1, choices=ContactStatus.choices, default=ContactStatus.ACTIVE)
    fields = models.JSONField(default=dict)
    # False once deleted: the row stays so broadcasts that addressed it keep their history.
    is_active = models.BooleanField(default=True)
    created_on = models.DateTimeField(default=timezone.now)
    modified_on = models.DateTimeField(default=timezone.now)
    last_seen_on = models.DateTimeField(null=True, blank=True)
    # When and why `status` last changed (null: never since the contact was made); each change is also a
    # ContactStatusChange row.
    status_changed_on = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(max_length=16, choices=StatusReason.choices, null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "-modified_on", "-id"], name="contacts_api_order"),
            # The web interface's search by the start of a name, in name order (herald/contacts/search.py).
            models.Index("workspace", NameKey("name"), "id", name="contacts_name_prefix"),
        ]

    def __str__(self):
        return self.name or str(self.uuid)


class ContactStatusChange(models.Model):
    """One change of a contact's status: to what, when and why (the log behind `status_changed_on`)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=1, choices=ContactStatus.choices)
    reason = models.CharField(max_length=16, choices=StatusReason.choices)
    created_on = models.DateTimeField(default=timezone.now)
    # Who blocked or unblocked the contact (the API token's or the web session's user); null for a stop word or a
    # provider's opt-out, and when that account has been removed.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["contact", "-id"], name="contact_status_newest")]

    def __str__(self):
        return f"{self.get_status_display()} ({self.reason})"


class ContactURN(models.Model):
    """One address of a contact. `identity` (scheme:path, normalised) is unique per workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="urns")
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, related_name="urns")
    scheme = models.CharField(max_length=128)
    path = models.CharField(max_length=255)
    identity = models.CharField(max_length=255)
    display = models.CharField(max_length=255, null=True, blank=True)
    # Higher first: the route for sending is the highest-priority URN that a channel can serve.
    priority = models.IntegerField(default=1000)
    # The channel this URN was last reached through (affinity), if any.
    channel = models.ForeignKey("channels.Channel", on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "identity"], name="urn_identity_unique")]
        ordering = ["-priority", "id"]

    def __str__(self):
        return self.identity


class ContactGroup(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=64)
    contacts = models.ManyToManyField(Contact, related_name="groups", blank=True)
    is_active = models.BooleanField(default=True)
    created_on = models.DateTimeField(default=timezone.now)

    MAX_PER_WORKSPACE = 250

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("name"), "workspace", condition=models.Q(is_active=True), name="group_name_unique"
            )
        ]
        indexes = [models.Index(fields=["workspace", "-created_on", "-id"], name="groups_api_order")]

    def __str__(self):
        return self.name


class ContactGroupCount(models.Model):
    """Rows that sum to a group's member count (its contacts that aren't deleted), kept by database triggers on the
    memberships, contacts and groups tables (migration 0006, `herald/contacts/group_counts.py`).

    On PostgreSQL each statement that changes members adds a delta row (insert-only: two imports into one group
    never wait on a shared row), and the tick folds a group's deltas into its squashed row (at most one per group);
    SQLite's triggers add to the squashed row directly. A group's count is the sum of its rows, none meaning 0.
    """

    # No foreign key: the triggers delete a deleted group's rows, whichever order a cascade deletes things in.
    group = models.ForeignKey(
        ContactGroup, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    count = models.BigIntegerField()
    squashed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group"], condition=models.Q(squashed=True), name="group_count_squashed")
        ]
        indexes = [
            models.Index(fields=["group"], name="group_counts"),
            # The tick's "which groups have deltas to fold".
            models.Index(fields=["group"], condition=models.Q(squashed=False), name="group_counts_deltas"),
        ]

    def __str__(self):
        return f"{self.group_id}: {self.count:+d}"


class ContactField(models.Model):
    """A custom field key that contacts may carry a value for (`fields` on the API, `@fields.KEY` in templates)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="contact_fields")
    key = models.CharField(max_length=36)
    name = models.CharField(max_length=36)
    # What its values are (herald.contacts.field_values: how each type's values are checked and rendered).
    value_type = models.CharField(max_length=8, choices=[(name, name) for name in field_values.TYPES], default="text")
    created_on = models.DateTimeField(default=timezone.now)

    # RapidPro's defaults: a workspace has at most 250 fields (every contact page carries a value slot for each),
    # and a value is at most 640 characters (goflow's MaxFieldChars): a template can't grow a message from them.
    # RapidPro cuts a longer value; Herald refuses it (docs/COMPATIBILITY.md, C9).
    MAX_PER_WORKSPACE = 250
    MAX_VALUE_LENGTH = 640

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="field_key_unique")]

    def __str__(self):
        return self.key


class ContactNote(models.Model):
    """A note written about a contact (`note` on the API). A contact keeps its KEPT most recent notes, as RapidPro
    does (`temba/contacts/models.py` `Contact.set_note`): a note is the current word on someone, not a log."""

    MAX_LENGTH = 10_000
    KEPT = 5

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField(max_length=MAX_LENGTH, blank=True)
    created_on = models.DateTimeField(default=timezone.now)
    # Kept when its author's account is removed; the note then shows no author.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="contact_notes"
    )

    class Meta:
        ordering = ["id"]  # oldest first, as the API lists them
        indexes = [models.Index(fields=["contact", "-id"], name="contact_notes_newest")]

    def __str__(self):
        return self.text[:40]


class ContactImport(models.Model):
    """A CSV file to import in the background (herald/contacts/imports.py), and how far that has got.

    The file is kept in the database until it has been read, so any worker of the installation can read it; its
    progress (bytes read of `size`, contacts created and updated, bad rows) is written every few batches for the
    page that follows it."""

    class Status(models.TextChoices):
        PENDING = "P", "pending"
        RUNNING = "R", "running"
        DONE = "D", "done"
        FAILED = "F", "failed"

    # Bad rows kept to be listed; a file with more says how many there were in all (`error_count`).
    MAX_LISTED_ERRORS = 1000

    uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="contact_imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_on = models.DateTimeField(default=timezone.now)
    filename = models.CharField(max_length=255)
    group_name = models.CharField(max_length=64, null=True, blank=True)
    content = models.BinaryField(default=b"")
    size = models.BigIntegerField(default=0)
    status = models.CharField(max_length=1, choices=Status.choices, default=Status.PENDING)
    bytes_read = models.BigIntegerField(default=0)
    created = models.IntegerField(default=0)
    updated = models.IntegerField(default=0)
    error_count = models.IntegerField(default=0)
    errors = models.JSONField(default=list)  # [{"line": 3, "reason": "..."}], in file order
    ignored_columns = models.JSONField(default=list)  # header cells that are no name, language, urn: or field:
    # Why the whole import stopped (a bad header, a line that is not UTF-8 ...), when it did.
    problem = models.TextField(blank=True, default="")
    finished_on = models.DateTimeField(null=True, blank=True)
    # When its worker last showed it is alive (claimed it, wrote its progress): a running import quiet for
    # settings.CONTACT_IMPORT_STALL_SECONDS lost its worker, and is marked failed (imports.fail_stalled_imports).
    progressed_on = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "-created_on", "-id"], name="contact_imports_newest"),
            # The sweep for stalled imports reads the running ones only.
            models.Index(fields=["progressed_on"], condition=Q(status="R"), name="contact_imports_running"),
        ]

    def __str__(self):
        return self.filename

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, self.bytes_read * 100 // self.size) if self.size else 0
