"""A fan-out batch's new messages as rows: what varies per message, written with `herald.db.insert_rows`.

The varying values are made here in the form the database takes (hex UUIDs, JSON text), so no model instance is
built per message.
"""

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any, NamedTuple, cast

from herald.db import insert_rows

from .counts import count_inserted, key
from .models import Msg, MsgDirection


class NewMessage(NamedTuple):
    """What differs from one message of a batch to the next (field names are Msg's attnames)."""

    contact_id: int
    contact_urn_id: int | None
    channel_id: int | None
    text: str
    attachments: list[str]
    quick_replies: list[dict[str, Any]]
    locale: str | None
    status: str
    failed_reason: str | None
    msg_count: int
    error_detail: str = ""
    templating: dict[str, Any] | None = None


VARYING = ("uuid", *NewMessage._fields)
EMPTY_JSON_LIST = json.dumps([])


def insert_messages(messages: list[NewMessage], **constants: object) -> None:
    """Insert `messages`, every other column taken from `constants` (e.g. workspace_id=, created_on=) or defaults;
    a broadcast's (`broadcast_id=`) are counted in its counts (`counts.count_inserted`) in the same transaction."""
    rows: list[tuple[Any, ...]] = [
        (
            uid,
            *message[:4],
            _json(message.attachments),
            _json(message.quick_replies),
            *message[6:-1],
            None if message.templating is None else json.dumps(message.templating),
        )
        for uid, message in zip(new_uuid_hexes(len(messages)), messages, strict=True)
    ]
    insert_rows(Msg, VARYING, rows, **constants)
    broadcast_id = constants.get("broadcast_id")
    if broadcast_id is not None and constants.get("direction", MsgDirection.OUT) == MsgDirection.OUT:
        count_inserted(cast(int, broadcast_id), Counter(key(m.status, m.failed_reason) for m in messages))


def new_uuid_hexes(count: int) -> Iterator[str]:
    """`count` new message UUIDs as 32 hex digits, how Django stores a UUIDField where it has no uuid type.

    Version 7 (time-ordered), like RapidPro's: new rows land at the end of the uuid index instead of at random
    places in it, which keeps inserts fast however many messages the table holds. Made for a whole batch at once
    (one call for its random bits, no UUID object per message): RFC 9562's layout, a millisecond timestamp, then a
    12-bit sequence in that millisecond (`rand_a`, so a batch's ids ascend), then 62 random bits.
    """
    global _last_millisecond
    with _clock:
        first = max(time.time_ns() // 1_000_000, _last_millisecond + 1)
        _last_millisecond = first + (count - 1) // SEQUENCE_SPAN  # no other batch reuses these milliseconds
    randoms = os.urandom(8 * count)
    for n in range(count):
        millisecond, sequence = divmod(n, SEQUENCE_SPAN)
        random = int.from_bytes(randoms[8 * n : 8 * n + 8]) & RAND_B_MASK | VARIANT
        yield f"{first + millisecond:012x}7{sequence:03x}{random:016x}"


SEQUENCE_SPAN = 1 << 12  # ids per millisecond (rand_a)
RAND_B_MASK = (1 << 62) - 1
VARIANT = 0b10 << 62  # RFC 9562's variant bits, above rand_b
_clock = threading.Lock()
_last_millisecond = 0


def _json(value: list[Any]) -> str:
    # The same text Django's JSONField writes (json.dumps with its defaults).
    return json.dumps(value) if value else EMPTY_JSON_LIST
