"""End to end: `POST /api/v2/broadcasts.json` → the message arriving at a local HTTP sink, on the embedded default.

A real `herald serve` (gunicorn + its worker child, SQLite, the file-system queue) with one external channel
pointing at the sink. Each broadcast goes to one new URN with a unique text; the latency is from just before the
POST to the sink's arrival time of that text (both on the system-wide monotonic clock); the POST's own share (until
its 201 is read) is reported too. One broadcast first warms the worker up (not counted), then the broadcasts are sent
one after another.
Baseline: the same two hops with nothing between them: a POST to the bare endpoint, then the client itself
sending the message to the sink.
"""

import time
import uuid

import httpx

from .harness import BenchError, Row, child_env, database, herald_server, percentile, run_child
from .sink import RunningSink

BROADCASTS = 20
QUICK_BROADCASTS = 5
TARGET_SECONDS = 1.0
SETTINGS = {"DJANGO_SETTINGS_MODULE": "bench.settings"}


def run(quick: bool, log) -> list[Row]:
    count = QUICK_BROADCASTS if quick else BROADCASTS
    with RunningSink() as sink, database("sqlite") as db:
        setup = run_child("bench.end_to_end:setup", db, env=SETTINGS, sink_url=sink.url)
        log_path = db.data_dir / "serve.log"
        with herald_server("serve", child_env(db, **SETTINGS), log_path) as base:
            headers = {"Authorization": f"Token {setup['token']}"}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                log(f"end to end: {count} broadcasts through herald serve")
                _send(client, sink, 0, timeout=60, log_path=log_path)  # warm-up: the worker may still be starting
                sent = [_send(client, sink, n, timeout=10, log_path=log_path) for n in range(1, count + 1)]
                bare = [_bare(client, sink) for _ in range(count)]
    herald = [total for total, _ in sent]
    posts = [post for _, post in sent]
    p50 = percentile(herald, 0.5)
    return [
        Row(
            "end to end",
            f"POST → first message at the sink, p50 of {count}",
            p50 * 1000,
            "ms",
            percentile(bare, 0.5) * 1000,
            "bare POST + sink request",
            f"< {TARGET_SECONDS * 1000:.0f} ms",
            p50 < TARGET_SECONDS,
            f"max {max(herald) * 1000:.0f} ms",
        ),
        Row(
            "end to end",
            f"of which the POST (until its 201), p50 of {count}",
            percentile(posts, 0.5) * 1000,
            "ms",
            note=f"max {max(posts) * 1000:.0f} ms",
        ),
    ]


def _send(client: httpx.Client, sink: RunningSink, n: int, timeout: float, log_path) -> tuple[float, float]:
    """Seconds from just before the POST to the message's arrival at the sink, and to the POST's answer."""
    text = f"end-to-end {n} {uuid.uuid4().hex}"
    body = {"urns": [f"tel:+25078855{n:04d}"], "text": {"eng": text}}
    started = time.monotonic()
    response = client.post("/api/v2/broadcasts.json", json=body)
    answered = time.monotonic()
    if response.status_code != 201:
        raise BenchError(f"POST answered {response.status_code}: {response.text[:300]}")
    arrived = sink.wait_for(text, timeout)
    if arrived is None:
        raise BenchError(f"broadcast {n} did not reach the sink within {timeout:g} s; see {log_path}")
    return arrived - started, answered - started


def _bare(client: httpx.Client, sink: RunningSink) -> float:
    text = f"bare {uuid.uuid4().hex}"
    started = time.monotonic()
    client.post("/bench/bare/broadcasts.json", json={"urns": ["tel:+250788550000"], "text": {"eng": text}})
    sink.client.post("/mark/bare", data={"text": text})
    return sink.wait_for(text, 5) - started


# Steps run in child processes (bench.child) ---------------------------------------------------------------------


def setup(sink_url: str) -> dict:
    from django.conf import settings

    from herald.workspaces.provisioning import create_token

    from . import data
    from .bare import RESPONSES_FILE

    data.migrate()
    workspace = data.make_workspace()
    _, token = create_token(workspace, "bench@example.com", "admin")
    data.make_external_channel(workspace, "Gateway", f"{sink_url}/mark/gateway")
    # The bare endpoint's answers: any JSON of the right size will do for a one-item POST.
    (settings.DATA_DIR / RESPONSES_FILE).write_text('{"list": {"results": []}, "create": {"status": "queued"}}')
    return {"token": token}
