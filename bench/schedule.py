"""Scheduling lateness: broadcasts POSTed with a `send_at` a few seconds ahead, each to one contact, through a real
`herald serve` (its web server, worker and tick) with one external channel pointing at the local sink.

A broadcast's lateness is from its `send_at` to the arrival of its message at the sink: its start, fan-out and
delivery, so it is what a recipient sees. `send_at` is taken on the wall clock and on the system-wide monotonic
clock at the same moment, so the sink's monotonic arrival times compare with it directly. The baseline is the same
trip for a broadcast that is not scheduled, from its POST. On SQLite and, when a server is available, PostgreSQL.
"""

import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from .harness import BenchError, Row, child_env, database, herald_server, percentile, run_child
from .sink import RunningSink

BROADCASTS = 50
QUICK_BROADCASTS = 10
LEAD_SECONDS = 4.0  # how far ahead each is scheduled: longer than the POSTs of all the others take
TARGET_SECONDS = 2.0
SETTINGS = {"DJANGO_SETTINGS_MODULE": "bench.settings"}
PATH = "/mark/gateway"


def run(kinds: list[str], quick: bool, log) -> list[Row]:
    count = QUICK_BROADCASTS if quick else BROADCASTS
    return [_run(kind, count, log) for kind in kinds]


def _run(kind: str, count: int, log) -> Row:
    with RunningSink() as sink, database(kind) as db:
        log(f"schedule: {db.label}, {count} broadcasts scheduled {LEAD_SECONDS:g} s ahead")
        setup = run_child("bench.schedule:setup", db, env=SETTINGS, sink_url=sink.url)
        log_path = db.data_dir / "serve.log"
        with herald_server("serve", child_env(db, **SETTINGS), log_path) as base:
            headers = {"Authorization": f"Token {setup['token']}"}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                _unscheduled(client, sink, setup["lone"], 60, log_path)  # warm-up: the worker may still be starting
                now = statistics.median(_unscheduled(client, sink, setup["lone"], 10, log_path) for _ in range(3))
                late = _lateness(client, sink, setup["lone"], count, log_path)
    worst, middle = max(late), percentile(late, 0.5)
    return Row(
        "scheduling lateness",
        f"{db.label}: send_at → the sink, max of {count} broadcasts scheduled {LEAD_SECONDS:g} s ahead",
        worst * 1000,
        "ms",
        now * 1000,
        "POST → the sink, unscheduled",
        f"< {TARGET_SECONDS * 1000:,.0f} ms",
        worst < TARGET_SECONDS,
        f"p50 {middle * 1000:,.0f} ms; none arrived before its send_at"
        if min(late) >= 0
        else f"p50 {middle * 1000:,.0f} ms; {sum(v < 0 for v in late)} arrived before their send_at",
    )


def _unscheduled(client: httpx.Client, sink: RunningSink, contact: str, timeout: float, log_path) -> float:
    text = f"now {uuid.uuid4().hex}"
    started = time.monotonic()
    _post(client, {"text": text, "contacts": [contact]})
    return _arrival(sink, text, timeout, log_path) - started


def _lateness(client: httpx.Client, sink: RunningSink, contact: str, count: int, log_path) -> list[float]:
    """Each broadcast's arrival at the sink minus its send_at, in seconds (negative: it came early)."""
    due: dict[str, float] = {}  # text → its send_at on the monotonic clock
    for n in range(count):
        text = f"scheduled {n} {uuid.uuid4().hex}"
        due[text] = time.monotonic() + LEAD_SECONDS
        send_at = datetime.now(UTC) + timedelta(seconds=LEAD_SECONDS)
        _post(client, {"text": text, "contacts": [contact], "send_at": send_at.isoformat()})
    return [_arrival(sink, text, LEAD_SECONDS + 60, log_path) - at for text, at in due.items()]


def _post(client: httpx.Client, body: dict) -> None:
    response = client.post("/api/v2/broadcasts.json", json=body)
    if response.status_code != 201:
        raise BenchError(f"POST answered {response.status_code}: {response.text[:300]}")


def _arrival(sink: RunningSink, text: str, timeout: float, log_path) -> float:
    arrived = sink.wait_for(text, timeout)
    if arrived is None:
        raise BenchError(f"{text!r} did not reach the sink within {timeout:g} s; see {log_path}")
    return arrived


# Steps run in child processes (bench.child) ---------------------------------------------------------------------


def setup(sink_url: str) -> dict:
    from herald.workspaces.provisioning import create_token

    from . import data

    data.migrate()
    workspace = data.make_workspace()
    _, token = create_token(workspace, "bench@example.com", "admin")
    data.make_external_channel(workspace, "Gateway", f"{sink_url}{PATH}")
    lone = data.make_group(workspace, 1, name="Lone").contacts.get()
    return {"token": token, "lone": str(lone.uuid)}
