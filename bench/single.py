"""A message sent on its own behind a big broadcast: `POST /api/v2/messages.json` → its arrival at the sink, while a
broadcast's 100,000 messages (10,000 with `--quick`) are queued on the same channel and going out.

A real `herald serve` (its web server and worker) with one external channel, no rate limit, pointing at the local
sink. First the baseline: one message to one contact on the idle channel. Then the broadcast's messages are queued
on the channel (straight into the database, as its fan-out would have left them) and, once the sink sees them
arrive, one more message to one contact is POSTed. Each delay is from just before the POST to the sink's arrival
time of its text (both on the system-wide monotonic clock). The note says how many of the broadcast's messages
were still ahead of it, and how long they would have taken at the rate the sink saw.
On SQLite and, when a server is available, PostgreSQL (`delivery.due_messages` reads an index of such messages
alone, `msgs_outbox_single`, on both).
"""

import time
import uuid

import httpx

from .harness import BenchError, Row, child_env, database, herald_server, run_child
from .sink import RunningSink

BACKLOG = 100_000
QUICK_BACKLOG = 10_000
TEXT = "Hi Contact, your code is C123456. Reply STOP to stop."
TARGET_SECONDS = 2.0
# The backlog must be flowing (the channel's sender busy with it) before the lone message is sent.
FLOWING = 500
SETTINGS = {"DJANGO_SETTINGS_MODULE": "bench.settings"}
PATH = "/mark/gateway"


def run(kinds: list[str], quick: bool, log) -> list[Row]:
    backlog = QUICK_BACKLOG if quick else BACKLOG
    return [_run(kind, backlog, log) for kind in kinds]


def _run(kind: str, backlog: int, log) -> Row:
    with RunningSink() as sink, database(kind) as db:
        log(f"single: {db.label}, {backlog:,} contacts")
        setup = run_child("bench.single:setup", db, env=SETTINGS, sink_url=sink.url, contacts=backlog)
        log_path = db.data_dir / "serve.log"
        with herald_server("serve", child_env(db, **SETTINGS), log_path) as base:
            headers = {"Authorization": f"Token {setup['token']}"}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                _send(client, sink, setup["lone"], "warm-up", 60, log_path)  # the worker may still be starting
                idle = _send(client, sink, setup["lone"], "idle", 10, log_path)
                log(f"single: {db.label}, queueing {backlog:,} messages of a broadcast on the channel")
                before = len(sink.times(PATH))  # the lone messages so far
                run_child("bench.single:queue", db, env=SETTINGS, **setup["queue"])
                ahead = backlog - _wait_until_flowing(sink, before, log_path)
                busy = _send(client, sink, setup["lone"], "busy", 60, log_path)
                rate = _rate(sorted(sink.times(PATH))[before:])
    return Row(
        "single message",
        f"{db.label}: POST messages.json → the sink, {backlog:,} of a broadcast queued on the channel",
        busy * 1000,
        "ms",
        idle * 1000,
        "the same on an idle channel",
        f"< {TARGET_SECONDS * 1000:,.0f} ms",
        busy < TARGET_SECONDS,
        f"{ahead:,} of the broadcast's messages were still queued ahead of it ({ahead / rate:,.0f} s at the "
        f"{rate:,.0f}/s the sink saw)",
    )


def _send(client: httpx.Client, sink: RunningSink, contact: str, what: str, timeout: float, log_path) -> float:
    text = f"single {what} {uuid.uuid4().hex}"
    started = time.monotonic()
    response = client.post("/api/v2/messages.json", json={"contact": contact, "text": text})
    if response.status_code != 201 or response.json()["status"] != "queued":
        raise BenchError(f"POST answered {response.status_code}: {response.text[:300]}")
    arrived = sink.wait_for(text, timeout)
    if arrived is None:
        raise BenchError(f"the {what} message did not reach the sink within {timeout:g} s; see {log_path}")
    return arrived - started


def _wait_until_flowing(sink: RunningSink, before: int, log_path, timeout: float = 120) -> int:
    """How many of the broadcast's messages had arrived once they flow (`before` arrivals were not theirs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        arrived = len(sink.times(PATH)) - before
        if arrived >= FLOWING:
            return arrived
        time.sleep(0.05)
    raise BenchError(f"the broadcast's messages did not start arriving within {timeout:g} s; see {log_path}")


def _rate(times: list[float]) -> float:
    return (len(times) - 1) / (times[-1] - times[0])


# Steps run in child processes (bench.child) ---------------------------------------------------------------------


def setup(sink_url: str, contacts: int) -> dict:
    from herald.workspaces.provisioning import create_token

    from . import data

    data.migrate()
    workspace = data.make_workspace()
    _, token = create_token(workspace, "bench@example.com", "admin")
    channel = data.make_external_channel(workspace, "Gateway", f"{sink_url}{PATH}")
    group = data.make_group(workspace, contacts)
    lone = data.make_group(workspace, 1, name="Lone").contacts.get()
    return {"token": token, "lone": str(lone.uuid), "queue": {"channel_id": channel.id, "group_id": group.id,
                                                                "count": contacts}}  # fmt: skip


def queue(channel_id: int, group_id: int, count: int) -> dict:
    from . import data

    data.queue_messages(channel_id, group_id, count, TEXT)
    data.analyze()
    return {}
