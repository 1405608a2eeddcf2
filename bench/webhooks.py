"""Webhook throughput: events POSTed to a local sink by Herald's sender (`herald.webhooks.sender`: a signed body,
the address checked, each attempt recorded, the delivery marked), against a bare loop of the same POSTs (the same
bodies and headers, through httpx with as many requests in flight, recording nothing).

Both in one child process on SQLite, each with HERALD_WEBHOOKS_CONCURRENCY (4) requests in flight to the one URL,
the bound Herald keeps per subscription. Events carry a `message.status` batch of 100 messages' worth of JSON. Herald
is measured twice, to two subscriptions of the same events: one event per POST (the default), and batches of
BATCH_SIZE events per POST (`batch_size`, as a subscriber to a big broadcast's statuses would ask); both in events/s
against the bare loop's one event per POST.
"""

import time
from concurrent.futures import ThreadPoolExecutor

from .harness import Row, database, run_child
from .sink import RunningSink

EVENTS, QUICK_EVENTS = 5000, 500
PATH, BATCHED_PATH = "/hooks", "/hooks/batched"
BATCH_SIZE = 100
TARGET_RATIO = 0.5


def run(quick: bool, log) -> list[Row]:
    events = QUICK_EVENTS if quick else EVENTS
    with RunningSink() as sink, database("sqlite") as db:
        log(f"webhooks: {events:,} events to a local sink")
        result = run_child(
            "bench.webhooks:measure", db, env={"HERALD_WEBHOOKS_ALLOW_PRIVATE": "1"}, url=f"{sink.url}{PATH}",
            batched_url=f"{sink.url}{BATCHED_PATH}", events=events,
        )  # fmt: skip
        arrived = len(sink.times(PATH)), len(sink.times(BATCHED_PATH))
    bare = result["bare_per_second"]
    rows = []
    for label, key, posts in (
        ("one event per POST", "herald_per_second", arrived[0]),
        (f"batch_size {BATCH_SIZE}", "batched_per_second", arrived[1]),
    ):
        herald = result[key]
        rows.append(
            Row(
                "webhooks",
                f"SQLite: {events:,} events POSTed, signed and recorded, 4 in flight, {label}",
                herald,
                "events/s",
                bare,
                "a bare loop of the same events, one per POST, 4 in flight",
                f"≥ {TARGET_RATIO:.0%} of the bare loop",
                herald / bare >= TARGET_RATIO,
                f"the sink saw {posts:,} requests at its URL (the first URL took the bare loop's too); "
                f"every delivery delivered: {result['all_delivered']}",
            )
        )
    return rows


# Steps run in child processes (bench.child) ---------------------------------------------------------------------


def measure(url: str, batched_url: str, events: int) -> dict:
    import httpx
    from django.conf import settings

    from herald.webhooks import events as outbox
    from herald.webhooks import sender, signing
    from herald.webhooks.models import Delivery, DeliveryStatus, Event, Webhook
    from herald.webhooks.subscriptions import subscribe

    from . import data

    data.migrate()
    workspace = data.make_workspace()
    webhook = subscribe(workspace, url, ["message.status"])
    batched = subscribe(workspace, batched_url, ["message.status"], batch_size=BATCH_SIZE)
    outbox.forget_subscriptions()
    message = {"uuid": "0193a000-0000-7000-8000-000000000000", "status": "wired", "text": "Hi Contact " * 5}
    payload = {"status": "wired", "messages": [message] * 100}
    for _ in range(events):
        outbox.emit(workspace.id, "message.status", lambda _workspace: payload, status="wired")

    def deliver_all(subscription: Webhook) -> float:
        started = time.perf_counter()
        while Delivery.objects.filter(webhook=subscription, status=DeliveryStatus.PENDING).exists():
            sender.deliver(subscription.id)
        return time.perf_counter() - started

    herald_seconds, batched_seconds = deliver_all(webhook), deliver_all(batched)
    all_delivered = Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 2 * events

    bodies = [sender.event_body(event) for event in Event.objects.order_by("id")]
    secret = Webhook.objects.get(id=webhook.id).secret
    concurrency = settings.WEBHOOKS_CONCURRENCY
    with httpx.Client(timeout=10) as client, ThreadPoolExecutor(concurrency) as pool:

        def post(body: bytes) -> int:
            headers = {"Content-Type": "application/json", **signing.headers(secret, int(time.time()), body)}
            return client.post(url, content=body, headers=headers).status_code

        started = time.perf_counter()
        codes = list(pool.map(post, bodies))
        bare_seconds = time.perf_counter() - started
    assert set(codes) == {200}
    return {
        "herald_per_second": events / herald_seconds,
        "batched_per_second": events / batched_seconds,
        "bare_per_second": events / bare_seconds,
        "all_delivered": all_delivered,
    }
