"""A broadcast's `counts`, Herald's addition to broadcasts.json (a part of `broadcasts.py`): its outgoing messages
by status as messages.json names them, the failed ones by `failed_reason`, and the recipients the fan-out
excluded, by why.

The numbers come from the rows the database keeps per broadcast (`herald/msgs/counts.py`), selected by the page's
own query (`with_count_rows`: no query of their own), or read in one query for a broadcast on its own; the names
are messages.json's own (`STATUS_NAMES`, `FAILED_REASON_NAMES`), so a status or reason added there is counted under
its name here with no change.
"""

from django.db.models import QuerySet
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from herald.api.v2.endpoints.messages import FAILED_REASON_NAMES, STATUS_NAMES
from herald.msgs.counts import count_rows_of_outer_broadcast, counts_by_broadcast, read_count_rows
from herald.msgs.exclusions import EXCLUSIONS, LEFT_OUT, recorded_figures
from herald.msgs.models import Broadcast, MsgStatus

# Every name an outgoing message's status has, in messages.json's order (`handled` is for incoming ones only).
STATUSES = tuple(name for name in dict.fromkeys(STATUS_NAMES.values()) if name != STATUS_NAMES[MsgStatus.HANDLED])
REASONS = tuple(dict.fromkeys(FAILED_REASON_NAMES.values()))


def with_count_rows(broadcasts: QuerySet[Broadcast]) -> QuerySet[Broadcast]:
    """The broadcasts with their count rows selected in the same query (`attach_counts` reads them)."""
    return broadcasts.annotate(count_rows=count_rows_of_outer_broadcast())


def attach_counts(broadcasts: list[Broadcast]) -> None:
    """Set `msg_counts` on each broadcast: from the rows `with_count_rows` selected, else one query for all."""
    unread = [b for b in broadcasts if not hasattr(b, "count_rows")]
    counts = counts_by_broadcast(b.id for b in unread) if unread else {}
    for b in broadcasts:
        b.msg_counts = read_count_rows(b.count_rows) if hasattr(b, "count_rows") else counts.get(b.id, {})


def counts_of(broadcast: Broadcast) -> dict:
    """The `counts` object of a broadcast that has `msg_counts`."""
    statuses = dict.fromkeys(STATUSES, 0)
    reasons = dict.fromkeys(REASONS, 0)
    for (status, reason), count in broadcast.msg_counts.items():
        name = STATUS_NAMES.get(status, status)
        statuses[name] = statuses.get(name, 0) + count
        if status == MsgStatus.FAILED and reason:
            name = FAILED_REASON_NAMES.get(reason, reason)
            reasons[name] = reasons.get(name, 0) + count
    return {**statuses, "failed_reasons": reasons, **recorded_figures(broadcast.exclusions)}


def _counts_of(names, help_text: str) -> dict:
    return {name: serializers.IntegerField(help_text=help_text.format(name=name)) for name in names}


COUNTS_SCHEMA = inline_serializer(
    name="BroadcastCounts",
    fields={
        **_counts_of(STATUSES, "messages whose status is `{name}` (as messages.json shows it)"),
        "failed_reasons": inline_serializer(
            name="BroadcastFailedReasons",
            fields=_counts_of(REASONS, "failed messages whose `failed_reason` is `{name}`"),
        ),
        "excluded": inline_serializer(
            name="BroadcastExclusions",
            fields=_counts_of(EXCLUSIONS, "recipients given a failed message at fan-out because: {name}"),
        ),
        "left_out": inline_serializer(
            name="BroadcastLeftOut",
            fields=_counts_of(LEFT_OUT, "members of the addressed groups given no message, being {name}"),
            help_text="as a dry run's `left_out`: counted when the fan-out begins",
        ),
    },
    help_text="The broadcast's messages by status, the failed ones by reason, and the recipients the fan-out "
    "excluded (by why, as a dry run reports them); always equal to its messages, updated as they change",
)
