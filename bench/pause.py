"""Pause latency: a broadcast sending at its channel's rate through a real `herald serve` (web server, worker, tick),
paused through `broadcast_actions.json` in the middle of its delivery; the figure is the time from the pause
(the request sent) to the last hand-over of one of its messages at the local sink (`bench.sink`), over several runs.
Each run's broadcast is then interrupted, so the next one has the channel to itself. The target (docs: DESIGN.md,
performance targets) is that pause takes effect within 1 s. On SQLite and, when a server is available,
PostgreSQL.
"""

import time
import uuid

import httpx

from .harness import BenchError, Row, child_env, database, herald_server, percentile, run_child
from .sink import RunningSink

RUNS = 10
QUICK_RUNS = 3
RECIPIENTS = 2000
QUICK_RECIPIENTS = 600
TPS = 200  # a channel's rate: every run pauses with some hundreds of messages still to go
HANDED_OVER_BEFORE_PAUSE = 100
SETTLE_SECONDS = 2.0  # how long after the pause the sink is watched for late hand-overs (twice the target)
TARGET_SECONDS = 1.0
SETTINGS = {"DJANGO_SETTINGS_MODULE": "bench.settings"}
PATH = "/mark/gateway"


def run(kinds: list[str], quick: bool, log) -> list[Row]:
    runs, recipients = (QUICK_RUNS, QUICK_RECIPIENTS) if quick else (RUNS, RECIPIENTS)
    return [_run(kind, runs, recipients, log) for kind in kinds]


def _run(kind: str, runs: int, recipients: int, log) -> Row:
    with RunningSink() as sink, database(kind) as db:
        log(f"pause: {db.label}, {runs} broadcasts to {recipients:,} at {TPS}/s, each paused mid-delivery")
        setup = run_child("bench.pause:setup", db, env=SETTINGS, sink_url=sink.url, recipients=recipients)
        log_path = db.data_dir / "serve.log"
        with herald_server("serve", child_env(db, **SETTINGS), log_path) as base:
            headers = {"Authorization": f"Token {setup['token']}"}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                latencies = [_pause_latency(client, sink, setup["group"], recipients, log_path) for _ in range(runs)]
    worst, middle = max(latencies), percentile(latencies, 0.5)
    return Row(
        "pause latency",
        f"{db.label}: pause → last hand-over at the sink, max of {runs} broadcasts at {TPS}/s",
        worst * 1000,
        "ms",
        target=f"< {TARGET_SECONDS * 1000:,.0f} ms",
        met=worst < TARGET_SECONDS,
        note=f"p50 {middle * 1000:,.0f} ms; sends due every {1000 / TPS:g} ms",
    )


def _pause_latency(client: httpx.Client, sink: RunningSink, group: str, recipients: int, log_path) -> float:
    """Seconds from sending the pause to the last hand-over after it (0 if none came after it)."""
    before = len(sink.times(PATH))
    broadcast = _post(client, "/api/v2/broadcasts.json", {"text": f"pause {uuid.uuid4().hex}", "groups": [group]})
    _wait_for(sink, before + HANDED_OVER_BEFORE_PAUSE, log_path)
    paused_at = time.monotonic()
    _post(client, "/api/v2/broadcast_actions.json", {"broadcasts": [broadcast["uuid"]], "action": "pause"})
    time.sleep(SETTLE_SECONDS)
    arrivals = sink.times(PATH)[before:]
    if len(arrivals) >= recipients:
        raise BenchError("the broadcast was all sent before the pause: nothing measured")
    _post(client, "/api/v2/broadcast_actions.json", {"broadcasts": [broadcast["uuid"]], "action": "interrupt"})
    return max(0.0, max(arrivals) - paused_at)


def _wait_for(sink: RunningSink, count: int, log_path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(sink.times(PATH)) < count:
        if time.monotonic() > deadline:
            raise BenchError(f"fewer than {count} messages reached the sink within {timeout:g} s; see {log_path}")
        time.sleep(0.02)


def _post(client: httpx.Client, path: str, body: dict) -> dict:
    response = client.post(path, json=body)
    if response.status_code not in (201, 204):
        raise BenchError(f"POST {path} answered {response.status_code}: {response.text[:300]}")
    return response.json() if response.status_code == 201 else {}


# Steps run in child processes (bench.child) ---------------------------------------------------------------------


def setup(sink_url: str, recipients: int) -> dict:
    from herald.workspaces.provisioning import create_token

    from . import data

    data.migrate()
    workspace = data.make_workspace()
    _, token = create_token(workspace, "bench@example.com", "admin")
    data.make_external_channel(workspace, "Gateway", f"{sink_url}{PATH}", tps=TPS)
    group = data.make_group(workspace, recipients, name="Everyone")
    return {"token": token, "group": str(group.uuid)}
