import uuid

from django.conf import settings
from django.db import models
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
    BLOCKED = "blocked", "blocked through contact_actions.json"
    UNBLOCKED = "unblocked", "unblocked through contact_actions.json"


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
        indexes = [models.Index(fields=["workspace", "-modified_on", "-id"], name="contacts_api_order")]

    def __str__(self):
        return self.name or str(self.uuid)


class ContactStatusChange(models.Model):
    """One change of a contact's status: to what, when and why (the log behind `status_changed_on`)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=1, choices=ContactStatus.choices)
    reason = models.CharField(max_length=16, choices=StatusReason.choices)
    created_on = models.DateTimeField(default=timezone.now)

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
