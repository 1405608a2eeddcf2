"""Delivery: a real `herald worker` sends queued messages through external channels to a local HTTP sink.

Figures, all timed by the sink's arrival clock:
- unlimited channel: messages per second (one worker process, the channel's default 16 concurrent requests),
  against the same sink hit by a bare httpx loop with the same concurrency and the same request body;
- channels limited to 50 and 500 messages per second: messages arriving in the first W seconds, divided by W,
  against the limit; the busiest 1-second window is given in the note.
Runs on the embedded default (SQLite, file-system queue).
"""

import threading
import time

import httpx

from herald.testing.processes import herald_command

from .harness import BenchError, Row, background, child_env, database, in_threads, run_child
from .sink import RunningSink

LIMITS = (50, 500)
TEXT = "Hi Contact, your code is C123456. Reply STOP to stop."
RATE_TARGET = 2_000
TOLERANCE = 0.05
# The body the external channel sends by default, for the bare loop.
BARE_BODY = (
    "id=0199a1c2-0000-7000-8000-000000000000&text=Hi+Contact%2C+your+code+is+C123456.+Reply+STOP+to+stop."
    "&to=%2B25070000001&to_no_plus=25070000001&from=%2B250788000000&from_no_plus=250788000000"
    "&channel=0199a1c2-0000-7000-8000-000000000001"
)


def run(quick: bool, log) -> list[Row]:
    unlimited = 2_000 if quick else 20_000
    window = 3 if quick else 10
    concurrency = 16
    rows = []
    with RunningSink() as sink, database("sqlite") as db:
        limited_counts = {tps: tps * (window + 1) for tps in LIMITS}
        setup = run_child(
            "bench.delivery:setup", db, sink_url=sink.url, contacts=max(unlimited, *limited_counts.values())
        )
        concurrency = setup["concurrency"]
        log_path = db.data_dir / "worker.log"
        worker = herald_command("worker", "--concurrency", "2")
        with background(worker, child_env(db), log_path):
            log(f"delivery: {unlimited:,} messages, no limit")
            herald_rate = _drain(sink, db, setup, "unlimited", unlimited, log_path)
            log(f"delivery: bare httpx loop, {concurrency} threads")
            bare_rate = bare_loop(sink, unlimited, concurrency)
            rows.append(
                Row(
                    "delivery",
                    f"no limit, 1 worker ({concurrency} concurrent requests): messages/s",
                    herald_rate,
                    "/s",
                    bare_rate,
                    "bare httpx loop",
                    f"> {RATE_TARGET:,}/s",
                    herald_rate > RATE_TARGET,
                    "" if herald_rate > RATE_TARGET else f"{herald_rate / RATE_TARGET:.0%} of the target",
                )
            )
            for tps, count in limited_counts.items():
                log(f"delivery: {count:,} messages, limit {tps}/s")
                achieved, busiest = _limited(sink, db, setup, tps, count, window, log_path)
                rows.append(
                    Row(
                        "delivery",
                        f"limit {tps}/s: achieved rate over {window} s",
                        achieved,
                        "/s",
                        tps,
                        "the limit",
                        f"within {TOLERANCE:.0%}",
                        abs(achieved / tps - 1) <= TOLERANCE,
                        f"{achieved / tps - 1:+.1%} off the limit; busiest 1-s window: {busiest}",
                    )
                )
    return rows


def _drain(sink, db, setup, name: str, count: int, log_path) -> float:
    """Queue `count` messages on channel `name`, wait until all reached the sink; their arrival rate."""
    times = _queue_and_wait(sink, db, setup, name, count, log_path)
    return (len(times) - 1) / (times[-1] - times[0])


def _limited(sink, db, setup, tps: int, count: int, window: int, log_path) -> tuple[float, int]:
    times = _queue_and_wait(sink, db, setup, f"tps{tps}", count, log_path)
    first = times[0]
    in_window = sum(1 for t in times if t < first + window)
    busiest, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    return in_window / window, busiest


def _queue_and_wait(sink, db, setup, name: str, count: int, log_path) -> list[float]:
    path = f"/send/{name}"
    run_child("bench.delivery:queue", db, channel_id=setup["channels"][name], group_id=setup["group_id"], count=count)
    # Generous: the slowest phase (a limited channel) takes count / tps seconds.
    deadline = time.monotonic() + 60 + count / 20
    while time.monotonic() < deadline:
        times = sink.times(path)
        if len(times) >= count:
            return sorted(times)
        time.sleep(0.5)
    raise BenchError(f"only {len(sink.times(path))} of {count} messages reached the sink on {path}; see {log_path}")


def bare_loop(sink, count: int, concurrency: int) -> float:
    """`count` POSTs to the sink from `concurrency` threads sharing one httpx client, as the worker does."""
    client = httpx.Client(limits=httpx.Limits(max_connections=100, max_keepalive_connections=20), timeout=30)
    remaining = iter(range(count))
    lock = threading.Lock()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    def send_until_done():
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            client.post(f"{sink.url}/send/bare", content=BARE_BODY, headers=headers).raise_for_status()

    in_threads(send_until_done, concurrency)
    client.close()
    times = sorted(sink.times("/send/bare"))
    return (len(times) - 1) / (times[-1] - times[0])


# Steps run in child processes (bench.child) ---------------------------------------------------------------------


def setup(sink_url: str, contacts: int) -> dict:
    from django.conf import settings

    from . import data

    data.migrate()
    workspace = data.make_workspace()
    group = data.make_group(workspace, contacts)
    channels = {"unlimited": data.make_external_channel(workspace, "unlimited", f"{sink_url}/send/unlimited")}
    for tps in LIMITS:
        channels[f"tps{tps}"] = data.make_external_channel(workspace, f"tps{tps}", f"{sink_url}/send/tps{tps}", tps)
    return {
        "group_id": group.id,
        "channels": {name: channel.id for name, channel in channels.items()},
        "concurrency": settings.DELIVERY_CONCURRENCY,
    }


def queue(channel_id: int, group_id: int, count: int) -> dict:
    from . import data

    data.queue_messages(channel_id, group_id, count, TEXT)
    return {}
