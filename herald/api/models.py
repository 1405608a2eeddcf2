from django.db import models
from django.utils import timezone

from herald.workspaces.models import Workspace


class IdempotencyKey(models.Model):
    """A POST made with an `Idempotency-Key` header, and the successful response it got, kept for replays.

    The row is inserted before the write, in the same transaction, so the unique (workspace, key) makes a second
    request with the key wait for the first; the response is filled in before that transaction commits, so no other
    request ever sees a row without one. See `herald/api/idempotency.py`.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # The endpoint name (e.g. "broadcasts"), for people reading the table; the fingerprint covers it too.
    endpoint = models.CharField(max_length=64)
    # SHA-256 (hex) of the method, path, query and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    # Null only inside the transaction that is doing the write.
    response_status = models.PositiveSmallIntegerField(null=True)
    # The JSON body exactly as first sent (text, not a JSON column: PostgreSQL's jsonb would reorder its keys).
    response_body = models.TextField(default="")
    created_on = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="idempotency_key_unique")]

    def __str__(self):
        return f"{self.endpoint} {self.key!r} in workspace {self.workspace_id}"
