"""Fan-out in one call, for tests that need a broadcast's messages made before they look at something else.

Production fans out through the tasks (`tasks.start_broadcast`, then `tasks.fan_out_range` per range); these are
the same `fanout` steps without a queue in between, so a test runs the code the workers run.
"""

from django.conf import settings

from herald.contacts.models import Contact
from herald.msgs import fanout
from herald.msgs.batches import load_batch
from herald.msgs.compose import MessageComposer


def fan_out(broadcast_id: int, on_batch=None) -> None:
    """Create every recipient's message here and now: the broadcast is claimed as `start_broadcast` claims it (when
    it is pending, or started and quiet), then its whole audience is walked as one range and it is completed."""
    fanout.split_into_ranges(broadcast_id, settings.FANOUT_TASK_SIZE)
    fanout.fan_out_range(broadcast_id, 0, None, on_batch)


def create_batch(composer: MessageComposer, contact_ids: list[int]) -> set[int]:
    """Create the messages of these contacts as one batch (e.g. one replayed after a crash); returns the channels
    that now have work."""
    batch = load_batch(Contact.objects.filter(id__in=contact_ids).order_by("id"), composer.needs_groups)
    return fanout.channels_with_work(fanout.write_batch(composer, batch)[0]) if batch else set()
