"""The web benchmark's data: a busy workspace, generated inside the database (runs in a `bench.child` process).

Shapes, for N contacts, B broadcasts and M messages (outgoing and incoming):
- N contacts, each with a tel URN and a `code` field, all in "Everyone" (bench/data.py's make_group); "Kigali"
  (every other contact: N/2) and "Nurses" (N/10) are groups of 100,000 and more at full size, "Clinic 1..8" small;
- B broadcasts, 90% of M messages between them: the newest of N messages (still sending: 40% handed over, the rest
  queued), three of N/2 (the second newest paused, its unsent messages held), ten of N/10, the rest sharing what is
  left (about 1,000 each at full size), all in both languages; one more broadcast scheduled for tomorrow;
- handed-over messages in mixed statuses by position (80% delivered, 8% sent, 4% wired, 4% failed with two reasons,
  2% errored), none read (SMS), each message's time 1 ms after the previous one of its broadcast;
- the count rows Herald keeps (herald/msgs/counts.py): PostgreSQL's triggers add them as the rows go in and are
  squashed as the tick would; on SQLite, where insert_messages counts what it inserts, one GROUP BY per broadcast;
- the other 10% of M as incoming messages over the last 40 days; progress samples for the newest broadcasts, a
  channel log for each of the biggest broadcast's newest 1,000 messages.
Message UUIDs are time-ordered (version 7, as Herald makes them), built from the time, the broadcast and the contact.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from urllib.parse import quote

from django.db import connection, transaction
from django.utils import timezone

from herald.api.v2.endpoints.broadcast_counts import attach_counts
from herald.channels.models import Channel, ChannelLog
from herald.contacts.models import Contact, ContactField, ContactGroup
from herald.msgs import counts
from herald.msgs.models import Broadcast, BroadcastStatus, Msg
from herald.testing.factories import create_web_user
from herald.web.models import ProgressSample
from herald.web.paging import cursor_of
from herald.web.progress import status_counts

from . import data

EMAIL = "admin@bench.example"
PASSWORD = "bench-web-password"
STEP_US = 1000  # a message every millisecond of its broadcast's fan-out
SAMPLES = 200  # progress samples of each of the newest broadcasts
SAMPLED = 10
LOGGED = 1000

# Time-ordered UUIDs: 48 bits of milliseconds, the version, 12 bits of broadcast, the variant, 60 bits of contact.
UUID_SQL = {
    "sqlite": "printf('%%012x7%%03x{variant}%%015x', s.t / 1000, %(bits)s %% 4096, s.contact_id)",
    "postgresql": (
        "(lpad(to_hex(s.t / 1000), 12, '0') || '7' || lpad(to_hex(%(bits)s %% 4096), 3, '0') || '{variant}'"
        " || lpad(to_hex(s.contact_id), 15, '0'))::uuid"
    ),
}
TIME_SQL = {
    "sqlite": (
        "(strftime('%%Y-%%m-%%d %%H:%%M:%%S', s.t / 1000000, 'unixepoch') || '.' || printf('%%06d', s.t %% 1000000))"
    ),
    "postgresql": "to_timestamp(s.t / 1e6)",
}
# One broadcast's messages: contacts lo..hi-1 (one URN each), the first `handed` of them handed over in mixed
# statuses (by k = position mod 100), the others `waiting` (queued, or held queued while paused).
OUTGOING_SQL = """
INSERT INTO msgs_msg (uuid, workspace_id, broadcast_id, contact_id, contact_urn_id, channel_id, text, attachments,
    quick_replies, locale, direction, msg_type, status, visibility, msg_count, failed_reason, error_detail,
    error_count, created_on, modified_on, sent_on)
SELECT {uuid}, %(workspace)s, %(broadcast)s, s.contact_id, s.urn_id, %(channel)s,
       CASE s.language WHEN 'fra' THEN 'Bonjour ' ELSE 'Hello ' END || s.name || ', your next visit is on Monday.',
       '[]', '[]', s.language, 'O', 'T', s.status, 'V', 1,
       CASE WHEN s.status = 'F' THEN CASE WHEN s.k < 94 THEN 'P' ELSE 'E' END END,
       CASE WHEN s.status = 'E' THEN 'HTTP 503 from the gateway' ELSE '' END,
       CASE WHEN s.status = 'E' THEN 1 ELSE 0 END,
       {time}, {time}, CASE WHEN s.status IN ('Q', 'K') THEN NULL ELSE {time} END
FROM (
    SELECT c.id AS contact_id, u.id AS urn_id, c.name, c.language, (c.id - %(lo)s) %% 100 AS k,
           %(start)s + (c.id - %(lo)s) * {step} AS t,
           CASE WHEN c.id - %(lo)s >= %(handed)s THEN %(waiting)s
                WHEN (c.id - %(lo)s) %% 100 < 80 THEN 'D' WHEN (c.id - %(lo)s) %% 100 < 88 THEN 'S'
                WHEN (c.id - %(lo)s) %% 100 < 92 THEN 'W' WHEN (c.id - %(lo)s) %% 100 < 96 THEN 'F'
                WHEN (c.id - %(lo)s) %% 100 < 98 THEN 'E' ELSE 'D' END AS status
    FROM contacts_contact c JOIN contacts_contacturn u ON u.contact_id = c.id
    WHERE c.id >= %(lo)s AND c.id < %(hi)s
) s
"""
# Incoming messages from contacts lo..hi-1, the newest first, spread back over `span` microseconds.
INCOMING_SQL = """
INSERT INTO msgs_msg (uuid, workspace_id, broadcast_id, contact_id, contact_urn_id, channel_id, text, attachments,
    quick_replies, locale, direction, msg_type, status, visibility, msg_count, error_detail, error_count,
    external_id, created_on, modified_on)
SELECT {uuid}, %(workspace)s, NULL, s.contact_id, s.urn_id, %(channel)s, 'Yes, thank you', '[]', '[]', NULL,
       'I', 'T', 'H', 'V', 1, '', 0, 'in-' || s.contact_id, {time}, {time}
FROM (
    SELECT c.id AS contact_id, u.id AS urn_id, %(start)s - (c.id - %(lo)s) * {step} AS t
    FROM contacts_contact c JOIN contacts_contacturn u ON u.contact_id = c.id
    WHERE c.id >= %(lo)s AND c.id < %(hi)s
) s
"""
# SQLite: Herald's insert_messages counts the rows it inserts (counts.count_inserted); the same sums, in one go.
SQLITE_COUNTS_SQL = """
INSERT INTO msgs_broadcastcount (broadcast_id, status, reason, count, squashed)
SELECT broadcast_id, status, CASE WHEN status = 'F' THEN COALESCE(failed_reason, '') ELSE '' END, COUNT(*), 1
FROM msgs_msg WHERE broadcast_id = %(broadcast)s GROUP BY 1, 2, 3
"""
SUBGROUP_SQL = """
INSERT INTO contacts_contactgroup_contacts (contactgroup_id, contact_id)
SELECT %(group)s, id FROM contacts_contact WHERE workspace_id = %(workspace)s AND id %% %(every)s = %(rest)s
"""


def sql(template: str, variant: str, step: int) -> str:
    """`template` for this database: its UUIDs of `variant` ("8" outgoing, "9" incoming: the two never collide),
    `step` microseconds between two messages."""
    vendor = data.vendor()
    uuid = UUID_SQL[vendor].replace("{variant}", variant)
    return template.format(uuid=uuid, time=TIME_SQL[vendor], step=step)


def broadcast_sizes(contacts: int, broadcasts: int, messages: int) -> list[int]:
    """Each broadcast's messages, newest first: one of every contact, three of half, ten of a tenth, the rest
    sharing what is left of 90% of `messages`."""
    outgoing = messages * 9 // 10
    big = ([contacts] + [contacts // 2] * 3 + [contacts // 10] * 10)[:broadcasts]
    rest = broadcasts - len(big)
    each = min(contacts, max(1, (outgoing - sum(big)) // rest)) if rest else 0
    return big + [each] * rest


@contextmanager
def step(steps: dict, name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    steps[name] = time.perf_counter() - started


def seed(sizes) -> tuple[dict, dict]:
    steps: dict[str, float] = {}
    now = timezone.now()
    with step(steps, "migrate"):
        data.migrate()
    workspace = data.make_workspace()
    create_web_user(workspace, "admin", EMAIL, PASSWORD)
    channel = data.make_external_channel(workspace, "Bench SMS", "http://127.0.0.1:9/send")
    with step(steps, "contacts"):
        everyone = data.make_group(workspace, sizes.contacts, "Everyone")
        ContactField.objects.create(workspace=workspace, key="code", name="Code")
    first = Contact.objects.filter(workspace=workspace).order_by("id").values_list("id", flat=True)[0]
    with step(steps, "groups"):
        groups = subgroups(workspace)
    with step(steps, "broadcasts"):
        sizes_list = broadcast_sizes(sizes.contacts, sizes.broadcasts, sizes.messages)
        broadcasts = make_broadcasts(workspace, sizes_list, now, everyone, groups)
    with step(steps, "outgoing messages"):
        for index, (broadcast, size) in reversed(list(enumerate(zip(broadcasts, sizes_list, strict=True)))):
            lo = first + (index * 7919) % (sizes.contacts - size + 1)
            outgoing(broadcast, channel, lo, size)
    with step(steps, "incoming messages"):
        incoming_count = min(sizes.contacts, sizes.messages - sum(sizes_list))
        incoming(workspace, channel, first, incoming_count, now)
    with step(steps, "count rows"):
        while counts.squash():  # as the tick does (PostgreSQL only; SQLite keeps squashed rows)
            pass
    with step(steps, "samples and logs"):
        samples(broadcasts[:SAMPLED], now)
        logged = logs(broadcasts[0], channel)
    with step(steps, "analyze"):
        data.analyze()
    biggest = broadcasts[0]
    deep = Msg.objects.filter(broadcast=biggest).order_by("-created_on", "-id")[sizes_list[0] // 2]
    contact = Contact.objects.get(id=first)
    objects = {
        "email": EMAIL,
        "biggest": str(biggest.uuid),
        "paused": str(broadcasts[1].uuid),
        "smallest": str(broadcasts[-1].uuid),
        "logged_msg": str(logged),
        "broadcasts_cursor": quote(cursor_of(broadcasts[len(broadcasts) // 2])),
        "msgs_cursor": quote(cursor_of(deep)),
        "contact": str(contact.uuid),
        "urn_path": quote(contact.urns.get().path),
        "everyone": str(everyone.uuid),
        "channel": str(channel.uuid),
        "messages": Msg.objects.count(),
    }
    return steps, objects


def subgroups(workspace) -> dict[str, ContactGroup]:
    shapes = {"Kigali": (2, 0), "Nurses": (10, 1), **{f"Clinic {n}": (1000, n) for n in range(1, 9)}}
    groups = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for name, (every, rest) in shapes.items():
            group = ContactGroup.objects.create(workspace=workspace, name=name)
            cursor.execute(SUBGROUP_SQL, {"group": group.id, "workspace": workspace.id, "every": every, "rest": rest})
            groups[name] = group
    return groups


def make_broadcasts(workspace, sizes: list[int], now: datetime, everyone, groups) -> list[Broadcast]:
    """Newest first; broadcast i began i + 1 hours ago."""
    largest = sizes[0]
    statuses = {0: BroadcastStatus.STARTED, 1: BroadcastStatus.PAUSED}
    made = Broadcast.objects.bulk_create(
        Broadcast(
            workspace=workspace,
            status=statuses.get(i, BroadcastStatus.COMPLETED),
            paused_from=BroadcastStatus.STARTED if i == 1 else "",
            translations={
                "eng": {"text": "Hello @contact.name, your next visit is on Monday."},
                "fra": {"text": "Bonjour @contact.name, votre prochaine visite est lundi."},
            },
            base_language="eng",
            contact_count=size,
            msg_count=size,
            created_on=now - timedelta(hours=i + 1),
            modified_on=now - timedelta(hours=i + 1) + timedelta(microseconds=size * STEP_US),
        )
        for i, size in enumerate(sizes)
    )
    scheduled = Broadcast.objects.create(
        workspace=workspace,
        translations={"eng": {"text": "See you tomorrow"}},
        base_language="eng",
        send_at=now + timedelta(days=1),
        created_on=now - timedelta(minutes=5),
    )
    links = Broadcast.groups.through
    audience = {largest: everyone, largest // 2: groups["Kigali"], largest // 10: groups["Nurses"]}
    links.objects.bulk_create(
        links(broadcast_id=b.id, contactgroup_id=audience.get(size, groups["Clinic 1"]).id)
        for b, size in zip([*made, scheduled], [*sizes, 0], strict=True)
    )
    return made


def outgoing(broadcast: Broadcast, channel: Channel, lo: int, size: int) -> None:
    front = {BroadcastStatus.STARTED: 0.4, BroadcastStatus.PAUSED: 0.3}.get(broadcast.status, 1.0)
    params = {
        "workspace": broadcast.workspace_id,
        "broadcast": broadcast.id,
        "bits": broadcast.id,
        "channel": channel.id,
        "lo": lo,
        "hi": lo + size,
        "handed": int(size * front),
        "waiting": "K" if broadcast.status == BroadcastStatus.PAUSED else "Q",
        "start": _micros(broadcast.created_on),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql(OUTGOING_SQL, "8", STEP_US), params)
        if data.vendor() not in counts.TRIGGERS_COUNT_INSERTS:
            cursor.execute(SQLITE_COUNTS_SQL, params)


def incoming(workspace, channel: Channel, first: int, count: int, now: datetime) -> None:
    step_us = int(timedelta(days=40) / timedelta(microseconds=1)) // max(1, count)
    params = {
        "workspace": workspace.id,
        "channel": channel.id,
        "bits": 4095,
        "lo": first,
        "hi": first + count,
        "start": _micros(now),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql(INCOMING_SQL, "9", step_us), params)


def samples(broadcasts: list[Broadcast], now: datetime) -> None:
    """The chart's points: each broadcast's counts growing evenly to what they are now, over its hour."""
    attach_counts(broadcasts)
    rows = []
    for broadcast in broadcasts:
        final = status_counts(broadcast)
        span = (broadcast.modified_on - broadcast.created_on) / SAMPLES
        for n in range(1, SAMPLES + 1):
            at = broadcast.created_on + span * n
            rows.append(
                ProgressSample(broadcast=broadcast, taken_on=at, counts={k: v * n // SAMPLES for k, v in final.items()})
            )
    ProgressSample.objects.bulk_create(rows, batch_size=1000)


def logs(broadcast: Broadcast, channel: Channel):
    """A send log for each of the broadcast's newest LOGGED messages; the newest one's UUID."""
    newest = list(Msg.objects.filter(broadcast=broadcast).order_by("-created_on", "-id")[:LOGGED])
    ChannelLog.objects.bulk_create(
        (
            ChannelLog(
                channel=channel,
                msg_uuid=msg.uuid,
                log_type="msg_send",
                http_logs=[
                    {
                        "method": "POST",
                        "url": "http://127.0.0.1:9/send",
                        "status_code": 200,
                        "request": "POST /send HTTP/1.1\r\n\r\ntext=Hello",
                        "response": 'HTTP/1.1 200 OK\r\n\r\n{"id": "1"}',
                        "elapsed_ms": 12,
                        "created_on": msg.created_on.isoformat(),
                    }
                ],
                elapsed_ms=12,
                created_on=msg.created_on,
            )
            for msg in newest
        ),
        batch_size=1000,
    )
    return newest[0].uuid


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)
