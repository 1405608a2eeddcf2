"""Dry run: `"dry_run": true` over a group of N contacts, against the real fan-out of the same broadcast.

Figure: the seconds `herald.msgs.dryrun.dry_run` takes over the audience of the fan-out benchmark's broadcast (the
same group, translations and channel: `bench.fanout.setup`), and its peak RSS. Baseline, in the same run and on the
same database: the real fan-out of that broadcast (`bench.fanout.herald_fan_out`), which walks, loads and composes
the same way and inserts the messages. The dry run runs first, on the table the fan-out then fills; each step runs
in its own process, so each peak RSS is that step's alone. The dry run's recipient count must equal the messages
the fan-out made.
"""

import time

from .harness import BenchError, Row, database, for_each_size, run_child

SIZES = (10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
RATIO_TARGET = 1.0  # "in about the time of a real fan-out": no slower than it
RSS_TARGET_MB = 300


def run(kinds: list[str], quick: bool, log) -> list[Row]:
    return for_each_size(kinds, QUICK_SIZES if quick else SIZES, "dry run", "s", measure, log)


def measure(kind: str, size: int) -> list[Row]:
    with database(kind) as db:
        setup = run_child("bench.fanout:setup", db, contacts=size)
        dry = run_child("bench.dryrun:dry_run", db, broadcast_id=setup["broadcast_id"])
        real = run_child("bench.fanout:herald_fan_out", db, broadcast_id=setup["broadcast_id"])
    if dry["recipients"] != real["messages"] or real["messages"] != size:
        counted, made = dry["recipients"], real["messages"]
        raise BenchError(f"{size} contacts: the dry run counted {counted}, the fan-out made {made}")
    figure = f"{size:,} contacts, {db.label}"
    ratio = dry["seconds"] / real["seconds"]
    return [
        Row(
            "dry run",
            f"{figure}: seconds",
            dry["seconds"],
            "s",
            real["seconds"],
            "real fan-out",
            f"≤ {RATIO_TARGET:.0%} of the fan-out",
            ratio <= RATIO_TARGET,
            "" if ratio <= RATIO_TARGET else f"{ratio:.2f}× the fan-out",
        ),
        Row(
            "dry run",
            f"{figure}: peak RSS",
            dry["peak_rss_mb"],
            "MB",
            real["peak_rss_mb"],
            "real fan-out",
            f"< {RSS_TARGET_MB} MB",
            dry["peak_rss_mb"] < RSS_TARGET_MB,
        ),
    ]


# Run in a child process (bench.child) -------------------------------------------------------------------------


def dry_run(broadcast_id: int) -> dict:
    from herald.msgs import dryrun
    from herald.msgs.models import Broadcast

    broadcast = Broadcast.objects.select_related("workspace").get(id=broadcast_id)
    started = time.perf_counter()
    plan = dryrun.dry_run(
        broadcast.workspace,
        broadcast.content,
        broadcast.base_language,
        contacts=list(broadcast.contacts.all()),
        groups=list(broadcast.groups.all()),
        urns=broadcast.urns,
    )
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "recipients": plan["recipients"]}
