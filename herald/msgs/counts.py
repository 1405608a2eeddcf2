"""A broadcast's message counts by status and failed reason: read from the rows the database triggers keep
(`BroadcastCount`, migration 0013), never counted over the messages.

The triggers see every update and delete of the messages table, and inserts too on PostgreSQL (on SQLite the
fan-out's insert counts them, see `TRIGGERS_COUNT_INSERTS`), so the counts equal a GROUP BY over it at every commit. On
PostgreSQL each statement adds delta rows (insert-only: concurrent senders never wait on a shared row); `squash`,
run by the tick, folds a few broadcasts' deltas into one row per key at a time, so a read stays a handful of rows
per broadcast. A read sums whatever rows there are, so it is exact before and after a squash.
"""

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Aggregate, OuterRef, Subquery, Sum, TextField

from herald import db

from .models import BroadcastCount, MsgStatus

Key = tuple[str, str]  # (message status code, failed reason code or "")

# Where the database's own triggers count inserted messages. On SQLite any INSERT trigger halves the fan-out's
# insert rate, so there `msg_rows.insert_messages`, the one place broadcast messages are inserted, counts them in
# the same transaction (`count_inserted`); updates and deletes are counted by triggers everywhere.
TRIGGERS_COUNT_INSERTS = ("postgresql",)

_ADD_SQUASHED = """
INSERT INTO msgs_broadcastcount (broadcast_id, status, reason, count, squashed) VALUES (%s, %s, %s, %s, TRUE)
ON CONFLICT (broadcast_id, status, reason) WHERE squashed
DO UPDATE SET count = msgs_broadcastcount.count + excluded.count
"""

# Broadcasts whose deltas one tick folds: bounded, so a tick stays short however many broadcasts are busy.
SQUASH_BATCH = 100


def key(status: str, failed_reason: str | None) -> Key:
    """The key a message counts under: a failed one by its reason too (as the migration's triggers count)."""
    return (status, failed_reason or "") if status == MsgStatus.FAILED else (status, "")


def count_inserted(broadcast_id: int, keys: Counter[Key]) -> None:
    """Count new messages of a broadcast (in the transaction that inserts them), unless triggers do."""
    if connection.vendor in TRIGGERS_COUNT_INSERTS or not keys:
        return
    with connection.cursor() as cursor:
        cursor.executemany(_ADD_SQUASHED, [(broadcast_id, status, reason, n) for (status, reason), n in keys.items()])


def counts_by_broadcast(broadcast_ids: Iterable[int]) -> dict[int, dict[Key, int]]:
    """Each broadcast's non-zero counts by (status, reason): one query for all of them."""
    rows = (
        BroadcastCount.objects.filter(broadcast_id__in=list(broadcast_ids))
        .values_list("broadcast_id", "status", "reason")
        .annotate(total=Sum("count"))
        .order_by()
    )
    counts: dict[int, dict[Key, int]] = {}
    for broadcast_id, status, reason, total in rows:
        if total:
            counts.setdefault(broadcast_id, {})[(status, reason)] = total
    return counts


class _RowsAsJSON(Aggregate):
    """The aggregated rows' (status, reason, count) as one JSON text, `[[status, reason, count], ...]`."""

    function = "json_group_array"
    template = "%(function)s(json_array(%(expressions)s))"
    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            function="jsonb_agg",
            template="%(function)s(jsonb_build_array(%(expressions)s))::text",
            **extra_context,
        )


def count_rows_of_outer_broadcast() -> Subquery:
    """The count rows of the broadcast an outer query selects, as one text column (`read_count_rows` reads it).

    Annotated on a page's own query, the counts come with the page: no query of their own (the list page's query
    count stays what it was before counts existed). A correlated subquery on the `broadcast_counts` index: a handful
    of rows per broadcast, so cheap per row of the page.
    """
    rows = (
        BroadcastCount.objects.filter(broadcast_id=OuterRef("pk"))
        .order_by()
        .values("broadcast_id")
        .annotate(rows=_RowsAsJSON("status", "reason", "count"))
        .values("rows")
    )
    return Subquery(rows, output_field=TextField())


def read_count_rows(text: str | None) -> dict[Key, int]:
    """A broadcast's non-zero counts by (status, reason) from `count_rows_of_outer_broadcast`'s column."""
    counts: Counter[Key] = Counter()
    for status, reason, count in json.loads(text) if text else ():
        counts[(status, reason)] += count
    return {k: n for k, n in counts.items() if n}


def squash(limit: int = SQUASH_BATCH) -> int:
    """Fold the deltas of up to `limit` broadcasts into their squashed rows (`db.fold_deltas`); returns how many
    broadcasts it folded. SQLite keeps squashed rows only: nothing to do."""
    if connection.vendor != "postgresql":
        return 0
    return db.fold_deltas("msgs_broadcastcount", "broadcast_id", ("status", "reason"), limit)
