from django.db import models
from django.utils import timezone

from herald.msgs.models import Broadcast


class ProgressSample(models.Model):
    """A broadcast's messages by status at one moment: the points of the chart on its page (herald/web/progress.py).

    Taken by a periodic task while the broadcast sends, and only when the counts moved, so the chart of a broadcast of
    a million messages reads a few hundred small rows, never the messages."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="+", db_index=False)
    taken_on = models.DateTimeField(default=timezone.now)
    # {status name as messages.json shows it: count}, e.g. {"queued": 10, "sent": 5, ...}
    counts = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["broadcast", "taken_on"], name="web_progress_samples")]

    def __str__(self) -> str:
        return f"broadcast {self.broadcast_id} at {self.taken_on:%H:%M:%S}"
