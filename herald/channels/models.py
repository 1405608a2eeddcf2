import secrets
import uuid

from django.db import models
from django.utils import timezone
from uuid6 import uuid7

from herald.workspaces.models import Workspace


def new_callback_secret() -> str:
    """A channel's callback secret: 192 random bits, URL-safe so it can sit in a URL's path as it is."""
    return secrets.token_urlsafe(24)


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
    # False: disabled (`herald channel disable`). It sends nothing, new messages are routed past it, and its callback
    # URLs are refused; messages already queued on it wait until it is enabled again.
    is_active = models.BooleanField(default=True)
    # Part of every callback URL (`/c/ex/<uuid>/<secret>/...`): a report without it changes nothing. Kept as it is,
    # not hashed, because the URLs must be printable again whenever a gateway is (re)configured; the row already
    # holds the gateway's own credentials in clear, so a hash would protect nothing those don't give away.
    callback_secret = models.CharField(max_length=64, default=new_callback_secret)
    created_on = models.DateTimeField(default=timezone.now)
    # Delivery lease: one worker at a time sends for a channel, which keeps its rate limit exact across machines.
    # A worker that dies simply lets the lease expire.
    send_lease_owner = models.CharField(max_length=64, blank=True, default="")
    send_lease_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class ChannelLogType(models.TextChoices):
    MSG_SEND = "msg_send", "Message send"
    MSG_STATUS = "msg_status", "Delivery report"


class ChannelLog(models.Model):
    """What one exchange with a gateway looked like: a hand-over attempt (the HTTP requests it made and their answers)
    or a callback the gateway made to Herald. Secrets are redacted before a log is stored
    (herald/channels/channel_logs.py), and logs are purged after HERALD_CHANNEL_LOG_DAYS days."""

    uuid = models.UUIDField(default=uuid7, unique=True)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="logs")
    # The message's UUID rather than a key: messages live a layer above channels, and a log outlives nothing it
    # names (both are purged, the log first).
    msg_uuid = models.UUIDField(null=True, blank=True)
    log_type = models.CharField(max_length=16, choices=ChannelLogType.choices)
    is_error = models.BooleanField(default=False)
    # [{method, url, status_code, request, response, elapsed_ms, created_on}], each request / response bounded.
    http_logs = models.JSONField(default=list)
    # [{message}]: what went wrong when no HTTP answer says it (a timeout, a refused connection, a broken config).
    errors = models.JSONField(default=list)
    elapsed_ms = models.PositiveIntegerField(default=0)
    created_on = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["channel", "-created_on", "-id"], name="channel_logs_by_channel"),
            models.Index(fields=["msg_uuid", "-created_on", "-id"], name="channel_logs_by_msg"),
            models.Index(fields=["created_on"], name="channel_logs_purge"),
        ]

    def __str__(self) -> str:
        return f"{self.log_type} {self.uuid}"


class Template(models.Model):
    """A message template a provider approved, by name, per workspace (RapidPro's `temba/templates/models.py`): each
    channel that has it holds its own translations (`TemplateTranslation`), one per locale. Only WhatsApp has them
    today; `herald channel sync-templates` fetches them (herald/channels/templates.py)."""

    uuid = models.UUIDField(default=uuid7, unique=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="templates")
    name = models.CharField(max_length=512)
    created_on = models.DateTimeField(default=timezone.now)
    modified_on = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="template_name_per_workspace")]

    def __str__(self) -> str:
        return self.name


class TemplateStatus(models.TextChoices):
    # The provider's review states (WhatsApp's PENDING, APPROVED, ...): only an approved translation may be sent.
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    PAUSED = "paused", "Paused"
    DISABLED = "disabled", "Disabled"
    IN_APPEAL = "in_appeal", "In appeal"


class TemplateTranslation(models.Model):
    """One template in one locale on one channel, as the provider last listed it.

    `components` are RapidPro's simplified ones (`{name, type, content, variables: {"1": index}}`, e.g. the body
    `"Hi {{1}}"` as `{"name": "body", "type": "body/text", "content": "Hi {{1}}", "variables": {"1": 0}}`) and
    `variables` the list the indexes point into (`[{"type": "text"}]`). `external_locale` is the provider's own code
    (`en_US`), what a send names; `locale` is Herald's (`eng-US`)."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="translations")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="template_translations")
    locale = models.CharField(max_length=8)
    external_locale = models.CharField(max_length=16)
    external_id = models.CharField(max_length=64, blank=True, default="")
    namespace = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=TemplateStatus.choices, default=TemplateStatus.PENDING)
    components = models.JSONField(default=list)
    variables = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "channel", "locale"], name="template_locale_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.template.name} {self.locale}"

    @property
    def body_variable_count(self) -> int:
        """How many `{{n}}` the body has: what a broadcast's `template_variables` must give."""
        return sum(len(c.get("variables") or {}) for c in self.components if c.get("name") == "body")

    @property
    def other_variable_count(self) -> int:
        """Variables outside the body (a header's media, a button's URL part): Herald can't fill them in yet."""
        return len(self.variables) - self.body_variable_count
