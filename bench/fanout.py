"""Fan-out: one broadcast to a group of N contacts, on SQLite and PostgreSQL.

Figure: messages created per second by the fan-out the workers run (`herald.msgs.fanout.split_into_ranges`, then
`fan_out_range` for each range, as `tasks.start_broadcast` and its range tasks do, without the queue in between: the
real code, with template rendering, language choice and routing), and the peak RSS of the process doing it.
Baseline (the limit): the same number of message rows, read by the same keyset batches and written into the same
table with the same batch size and one commit per batch, but with no Herald logic: `executemany` on SQLite,
`COPY` on PostgreSQL. The baseline runs first on the empty table; its rows are deleted before Herald runs.
Each step runs in its own process, so each peak RSS is that step's alone.

On PostgreSQL, at the largest size, two more figures: the table and its indexes per million messages (what Herald's
rows take on disk), and the scaling of one broadcast's fan-out over two worker processes: the same broadcast again
(its first messages deleted), its ranges split as `tasks.start_broadcast` splits them and shared by two processes
(each takes every other range, as the strands of range tasks do), against the one-process figure above.
"""

import json
import subprocess
import sys
import time
from functools import partial

from uuid6 import uuid7

from .harness import ROOT, BenchError, Row, child_env, database, for_each_size, run_child

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
# Broadcast text: expressions make the fan-out render per contact, as real broadcasts do.
TRANSLATIONS = {
    "eng": {"text": "Hi @contact.first_name, your code is @fields.code. Reply STOP to stop."},
    "fra": {"text": "Bonjour @contact.first_name, votre code est @fields.code. Répondez STOP pour arrêter."},
}
RSS_TARGET_MB = 300
RATE_TARGET = 50_000  # messages/s on SQLite
RATIO_TARGET = 0.5
SCALING_TARGET = 1.6  # two worker processes against one, on PostgreSQL
WORKERS = 2
MSG_COLUMNS = (
    "uuid, workspace_id, contact_id, contact_urn_id, channel_id, broadcast_id, text, attachments, quick_replies, "
    "locale, direction, msg_type, status, visibility, msg_count, error_detail, error_count, created_on, modified_on"
)


def run(kinds: list[str], quick: bool, log) -> list[Row]:
    sizes = QUICK_SIZES if quick else SIZES
    return for_each_size(kinds, sizes, "fan-out", "msgs/s", partial(measure, largest=max(sizes)), log)


def measure(kind: str, size: int, largest: int) -> list[Row]:
    with database(kind) as db:
        setup = run_child("bench.fanout:setup", db, contacts=size)
        raw = run_child("bench.fanout:raw_insert", db, **{k: v for k, v in setup.items() if k != "peak_rss_mb"})
        herald = run_child("bench.fanout:herald_fan_out", db, broadcast_id=setup["broadcast_id"])
        extra = []
        if kind == "postgresql" and size == largest:
            extra = _scaling(db, setup, size, size / herald["seconds"])
    if herald["messages"] != size or raw["messages"] != size:
        raise BenchError(f"expected {size} messages, Herald made {herald['messages']}, raw made {raw['messages']}")
    label = db.label
    herald_rate = size / herald["seconds"]
    raw_rate = size / raw["seconds"]
    ratio_ok = herald_rate >= RATIO_TARGET * raw_rate
    if kind == "sqlite":
        rate_target = f"≥ {RATIO_TARGET:.0%} of raw, > {RATE_TARGET:,}/s"
        rate_met = ratio_ok and herald_rate > RATE_TARGET
    else:
        rate_target, rate_met = f"≥ {RATIO_TARGET:.0%} of raw", ratio_ok
    figure = f"{size:,} contacts, {label}"
    rate_note = "" if rate_met else f"{herald_rate / raw_rate:.0%} of raw"
    if not rate_met and kind == "sqlite":
        rate_note += f", {herald_rate / RATE_TARGET:.0%} of {RATE_TARGET:,}/s"
    rss_limited = size >= 1_000_000
    rss_met = herald["peak_rss_mb"] < RSS_TARGET_MB if rss_limited else None
    return [
        Row(
            "fan-out",
            f"{figure}: messages/s",
            herald_rate,
            "/s",
            raw_rate,
            "raw insert",
            rate_target,
            rate_met,
            rate_note,
        ),
        Row(
            "fan-out",
            f"{figure}: peak RSS",
            herald["peak_rss_mb"],
            "MB",
            raw["peak_rss_mb"],
            "raw insert",
            f"< {RSS_TARGET_MB} MB" if rss_limited else "",
            rss_met,
            f"{herald['peak_rss_mb'] - RSS_TARGET_MB:+.0f} MB over" if rss_met is False else "",
        ),
        *extra,
    ]


def _scaling(db, setup: dict, size: int, one_worker_rate: float) -> list[Row]:
    """The disk Herald's rows take, then the same broadcast fanned out again by WORKERS processes at once."""
    again = run_child("bench.fanout:again", db, broadcast_id=setup["broadcast_id"])
    # The production range size; smaller for a quick run's small broadcast, so that there are ranges to share.
    split = run_child("bench.fanout:split", db, broadcast_id=again["broadcast_id"], smaller_than=size // 10)
    ranges = split["ranges"]
    go = db.data_dir / "go"  # the workers begin together once each has set Django up (`share`)
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.child",
                "bench.fanout:share",
                json.dumps({"broadcast_id": again["broadcast_id"], "ranges": ranges[n::WORKERS], "go": str(go)}),
                str(db.data_dir / f"worker-{n}.json"),
            ],
            cwd=ROOT,
            env=child_env(db),
        )
        for n in range(WORKERS)
    ]
    while len(list(db.data_dir.glob("go.ready-*"))) < WORKERS:
        if any(worker.poll() is not None for worker in workers):
            break  # one ended before it was ready: its exit code says why below
        time.sleep(0.01)
    started_at = time.time()
    go.touch()
    if any([worker.wait(timeout=1800) for worker in workers]):
        raise BenchError("a fan-out worker failed")
    results = [json.loads((db.data_dir / f"worker-{n}.json").read_text()) for n in range(WORKERS)]
    seconds = split["seconds"] + max(r["finished_at"] for r in results) - started_at
    made = sum(r["created"] for r in results)
    if made != size:
        raise BenchError(f"{WORKERS} workers made {made} messages, expected {size}")
    rate = size / seconds
    label = f"{size:,} contacts, {db.label}"
    return [
        Row(
            "fan-out",
            f"{label}: messages/s with {WORKERS} worker processes",
            rate,
            "/s",
            one_worker_rate,
            "1 worker",
            f"≥ {SCALING_TARGET}× of 1 worker",
            rate >= SCALING_TARGET * one_worker_rate,
            f"load {again['loadavg']}",
        ),
        Row("fan-out", f"{label}: msgs_msg table + indexes per million messages", again["mb_per_million"], "MB"),
    ]


# Steps run in child processes (bench.child) ---------------------------------------------------------------------


def setup(contacts: int) -> dict:
    from django.conf import settings

    from herald.msgs.models import Broadcast

    from . import data

    data.migrate()
    workspace = data.make_workspace()
    # Fan-out only creates messages; nothing is sent, so the URL is never called.
    channel = data.make_external_channel(workspace, "Gateway", "http://127.0.0.1:9/send")
    group = data.make_group(workspace, contacts)
    broadcast = Broadcast.objects.create(workspace=workspace, translations=TRANSLATIONS, base_language="eng")
    broadcast.groups.add(group)
    return {
        "broadcast_id": broadcast.id,
        "group_id": group.id,
        "workspace_id": workspace.id,
        "channel_id": channel.id,
        "batch_size": settings.FANOUT_BATCH_SIZE,
    }


def herald_fan_out(broadcast_id: int) -> dict:
    from django.conf import settings

    from herald.msgs import fanout
    from herald.msgs.models import Msg

    started = time.perf_counter()
    for after, upto in fanout.split_into_ranges(broadcast_id, settings.FANOUT_TASK_SIZE).ranges:
        fanout.fan_out_range(broadcast_id, after, upto)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "messages": Msg.objects.filter(broadcast_id=broadcast_id).count()}


def again(broadcast_id: int) -> dict:
    """Measure what the messages take on disk, then delete them and make the same broadcast again."""
    import os

    from django.db import connection

    from herald.msgs.models import Broadcast, Msg

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE msgs_msg")
        cursor.execute("SELECT pg_total_relation_size('msgs_msg'), (SELECT count(*) FROM msgs_msg)")
        total_bytes, rows = cursor.fetchone()
    first = Broadcast.objects.get(id=broadcast_id)
    Msg.objects.filter(broadcast_id=broadcast_id).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE msgs_msg")
    second = Broadcast.objects.create(
        workspace_id=first.workspace_id, translations=first.translations, base_language=first.base_language
    )
    second.groups.set(first.groups.all())
    return {
        "broadcast_id": second.id,
        "mb_per_million": total_bytes / rows * 1_000_000 / 2**20,
        "loadavg": " ".join(f"{n:.1f}" for n in os.getloadavg()),
    }


def split(broadcast_id: int, smaller_than: int) -> dict:
    """What `tasks.start_broadcast` does before it queues the ranges: claim the broadcast, cut it into ranges."""
    from django.conf import settings

    from herald.msgs import fanout

    started = time.perf_counter()
    ranges = fanout.split_into_ranges(broadcast_id, min(settings.FANOUT_TASK_SIZE, smaller_than)).ranges
    return {"ranges": ranges, "seconds": time.perf_counter() - started}


def share(broadcast_id: int, ranges: list, go: str) -> dict:
    """One worker process's share of the ranges, begun when the file `go` appears (says it is ready meanwhile)."""
    import os
    from pathlib import Path

    from herald.msgs import fanout

    Path(f"{go}.ready-{os.getpid()}").touch()
    while not Path(go).exists():
        time.sleep(0.005)
    created = sum(fanout.fan_out_range(broadcast_id, after, upto) for after, upto in ranges)
    return {"created": created, "finished_at": time.time()}


def raw_insert(broadcast_id: int, group_id: int, workspace_id: int, channel_id: int, batch_size: int) -> dict:
    """The same rows as the fan-out makes, with nothing but reading the recipients and writing the rows."""
    from django.db import connection, transaction
    from django.utils import timezone

    from herald.msgs.models import Msg

    recipients = """
        SELECT m.contact_id, u.id FROM contacts_contactgroup_contacts m
        JOIN contacts_contacturn u ON u.contact_id = m.contact_id
        WHERE m.contactgroup_id = %s AND m.contact_id > %s AND u.contact_id > %s ORDER BY m.contact_id LIMIT %s
    """  # the second bound keeps PostgreSQL's merge join from scanning the URN index from the start every batch
    postgres = connection.vendor == "postgresql"
    connection.ensure_connection()
    raw = connection.connection  # the driver's own connection: no Django in the loop
    insert = f"INSERT INTO msgs_msg ({MSG_COLUMNS}) VALUES ({', '.join(['?'] * 19)})"
    now = timezone.now()
    now_value = now if postgres else now.replace(tzinfo=None).isoformat(" ")
    after, created = 0, 0
    started = time.perf_counter()
    while True:
        with connection.cursor() as cursor:
            cursor.execute(recipients, [group_id, after, after, batch_size])
            batch = cursor.fetchall()
        if not batch:
            break
        rows = [
            (
                uuid7() if postgres else uuid7().hex,  # the same kind of ids Herald writes
                workspace_id,
                contact_id,
                urn_id,
                channel_id,
                broadcast_id,
                f"Hi Contact, your code is C{contact_id}. Reply STOP to stop.",
                "[]",
                "[]",
                "eng",
                "O",
                "T",
                "Q",
                "V",
                1,
                "",
                0,
                now_value,
                now_value,
            )
            for contact_id, urn_id in batch
        ]
        with transaction.atomic():
            if postgres:
                with raw.cursor() as cursor, cursor.copy(f"COPY msgs_msg ({MSG_COLUMNS}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                raw.executemany(insert, rows)
        created += len(rows)
        after = batch[-1][0]
    seconds = time.perf_counter() - started
    count = Msg.objects.filter(broadcast_id=broadcast_id).count()
    Msg.objects.filter(broadcast_id=broadcast_id).delete()  # Herald runs next on an empty table
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE msgs_msg")
    return {"seconds": seconds, "messages": count, "created": created}
