import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from herald.workspaces.models import Workspace


class Media(models.Model):
    """An uploaded attachment. Broadcasts reference it by UUID and store `content_type:url`."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="media")
    content_type = models.CharField(max_length=255)
    filename = models.CharField(max_length=255)
    # Path relative to MEDIA_ROOT.
    path = models.CharField(max_length=2048)
    # Absolute URL the file is served at (what channels hand to providers).
    url = models.URLField(max_length=2048)
    size = models.BigIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    created_on = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.filename

    @property
    def attachment(self) -> str:
        return f"{self.content_type}:{self.url}"
