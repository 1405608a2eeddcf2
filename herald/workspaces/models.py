import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Subquery
from django.utils import timezone


class Workspace(models.Model):
    """An organisation: owns contacts, groups, media, channels and broadcasts (RapidPro's "org")."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    name = models.CharField(max_length=128)
    # ISO-639-3 codes; the first is the primary language, where a bare `text` string is filed.
    languages = models.JSONField(default=list)
    country = models.CharField(max_length=2, blank=True, default="")
    is_anonymous = models.BooleanField(default=False)
    is_flagged = models.BooleanField(default=False)
    is_suspended = models.BooleanField(default=False)
    # Per-scope API rate overrides merged over the defaults, e.g. {"v2": "15000/hour"}.
    api_rates = models.JSONField(default=dict)
    # Bytes of uploads it may keep; null: HERALD_MEDIA_QUOTA_BYTES, 0: no limit.
    media_quota_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    created_on = models.DateTimeField(default=timezone.now)
    # The IANA name of the zone Herald reasons about local time in (template datetimes, schedules, quiet hours).
    # Declared after every use of django.utils.timezone in this class body, which the name hides from here on. The
    # database default serves code that doesn't know the column yet (a web machine not upgraded, an old migration).
    timezone = models.CharField(max_length=64, default="UTC", db_default="UTC")
    # When its messages may be handed to a channel, by default (`send_window.SendWindow`'s JSON; a null `timezone`
    # in it is the workspace's): copied onto each broadcast at creation, followed by single messages. Null: any time.
    send_window = models.JSONField(null=True, blank=True)
    # Opt-out words added to the defaults, by language ({"kin": ["HAGARIKA"]}), and the confirmation a contact who
    # stops is sent, by language: herald/workspaces/optout_words.py reads them.
    stop_words = models.JSONField(default=dict, blank=True)
    start_words = models.JSONField(default=dict, blank=True)
    stop_confirmations = models.JSONField(default=dict, blank=True)

    def __str__(self):
        return self.name

    @property
    def primary_language(self) -> str:
        return self.languages[0] if self.languages else "eng"

    def global_values(self) -> dict[str, str]:
        """What `@globals.KEY` renders in this workspace's messages: each global's value by its key."""
        return dict(self.globals.values_list("key", "value"))


class Global(models.Model):
    """A named value messages can quote as `@globals.KEY` (RapidPro's `Global`, temba/globals/models.py): set through
    `globals.json`, its key made once from the name it was created with."""

    MAX_KEY_LENGTH = 36
    MAX_NAME_LENGTH = 36
    # RapidPro's GLOBAL_VALUE_SIZE and its limit of globals a workspace (ORG_LIMIT_DEFAULTS, temba/settings_common.py).
    MAX_VALUE_LENGTH = 10_000
    MAX_PER_WORKSPACE = 250

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="globals")
    key = models.CharField(max_length=MAX_KEY_LENGTH)
    name = models.CharField(max_length=MAX_NAME_LENGTH)
    value = models.TextField()
    created_on = models.DateTimeField(default=timezone.now)
    modified_on = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="global_key_unique")]
        indexes = [models.Index(fields=["workspace", "-modified_on", "-id"], name="global_modified")]

    def __str__(self):
        return f"@globals.{self.key}"


class Role(models.TextChoices):
    ADMINISTRATOR = "A", "admin"
    EDITOR = "E", "editor"
    AGENT = "T", "agent"

    @classmethod
    def from_name(cls, name: str) -> "Role":
        for role in cls:
            if role.label == name:
                return role
        raise ValueError(f"unknown role {name!r}; choose one of: {', '.join(r.label for r in cls)}")


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=1, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique")]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()}) in {self.workspace}"


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class APIToken(models.Model):
    """An API key for one (workspace, user). Only the SHA-256 of the key is stored; the key is shown once.

    `prefix` (the key's first characters) tells keys apart in `herald token list` without giving them away; tokens
    made before it was kept have none. Revoking sets `is_active` to false: the row stays, the key no longer works.
    """

    # Who may use the API with a token (RapidPro's `APIToken.ALLOWED_ROLES`, temba/api/models.py): an agent gets none,
    # and the tokens of a member demoted to agent stop working (until they are an admin or editor again).
    ALLOWED_ROLES = frozenset({Role.ADMINISTRATOR, Role.EDITOR})
    KEY_LENGTH = 40
    PREFIX_LENGTH = 8
    # `last_used_on` is written at most this often per token: a write on every request would queue every API call
    # behind SQLite's one writer.
    LAST_USED_PRECISION = timedelta(minutes=1)
    # Not a column: set on the tokens provisioning.working_tokens lists.
    role_name: str | None
    # Not a column: the member's role, read by `lookup` in the token's own query.
    member_role: str | None

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=PREFIX_LENGTH, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_on = models.DateTimeField(default=timezone.now)
    last_used_on = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"token of {self.user} in {self.workspace}"

    @classmethod
    def create_for(cls, workspace: Workspace, user) -> tuple["APIToken", str]:
        key = secrets.token_hex(cls.KEY_LENGTH // 2)
        token = cls.objects.create(
            workspace=workspace, user=user, key_hash=hash_token_key(key), prefix=key[: cls.PREFIX_LENGTH]
        )
        return token, key

    @classmethod
    def lookup(cls, key: str) -> "APIToken | None":
        digest = hash_token_key(key)
        # The member's role comes with the token (one query for the whole check): still read on every request, so
        # a demotion or removal takes effect on the next one.
        role = Membership.objects.filter(workspace_id=OuterRef("workspace_id"), user_id=OuterRef("user_id"))
        token = (
            cls.objects.select_related("workspace", "user")
            .annotate(member_role=Subquery(role.values("role")[:1]))
            .filter(key_hash=digest, is_active=True)
            .first()
        )
        # The index lookup finds the row; compare_digest keeps the final check constant-time.
        if token and hmac.compare_digest(token.key_hash, digest):
            token.mark_used()
            return token
        return None

    def mark_used(self) -> None:
        now = timezone.now()
        if self.last_used_on is None or now - self.last_used_on >= self.LAST_USED_PRECISION:
            APIToken.objects.filter(pk=self.pk).update(last_used_on=now)
            self.last_used_on = now

    @property
    def role(self) -> str | None:
        if hasattr(self, "member_role"):  # read by lookup() with the token
            return self.member_role
        membership = Membership.objects.filter(workspace_id=self.workspace_id, user_id=self.user_id).first()
        return membership.role if membership else None
