"""A broadcast whose start task can't be queued after it was stored is answered 201, and the tick sends it, once.

Real `herald web` and `herald worker` processes, whose task queue refuses the web's tasks the way it does in
production: on the embedded default, the queue folder is on a full file system (a real ENOSPC: the test is skipped
where mounting one is refused); on PostgreSQL + Redis, the web's broker URL is a loopback port where nothing listens
(the worker keeps the real broker, as a broker that comes back would be).
"""

import contextlib
import time
from collections import Counter

import pytest

from herald.msgs import tasks
from herald.msgs.models import Broadcast, BroadcastStatus, Msg, MsgStatus
from herald.runtime.tests.full_disk import small_filesystem
from herald.testing.factories import make_broadcast, make_contact
from herald.testing.fixtures import eager
from herald.testing.gateway import FakeGateway, gateway_channel, unreachable_url

from .live import Installation

SETTINGS = {"HERALD_TICK_SECONDS": "0.5", "HERALD_BROADCAST_STALL_SECONDS": "2"}
RECIPIENTS = 3
SETTLE_LIMIT_SECONDS = 120  # ends a hung test; the tick needs a few seconds
QUIET_SECONDS = 6  # three stall periods: time enough for a second, duplicate start to show


@contextlib.contextmanager
def queue_refusing_the_web(herald: Installation):
    """Start the worker; yield (the web's environment, give_room): its tasks are refused until give_room()."""
    if herald.backend == "embedded":
        with small_filesystem(herald.data_dir / "queue") as disk:
            herald.start("worker")  # it binds its queue while there is room, as in a Herald that ran before
            disk.fill()
            yield {}, disk
    else:
        herald.start("worker")
        port = unreachable_url().rsplit(":", 1)[1]
        # The cache (rate limits) stays on the real Redis: only sending tasks fails.
        real_redis = herald.env["HERALD_BROKER_URL"]
        yield {"HERALD_BROKER_URL": f"redis://127.0.0.1:{port}/0", "HERALD_REDIS_URL": real_redis}, None


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + SETTLE_LIMIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {what}")


def test_a_stored_broadcast_whose_start_was_refused_is_a_201_and_sent_once_by_the_tick(herald, gateway):
    setup = herald.provision(gateway.url, contacts=RECIPIENTS)
    body = {"text": "Hi @contact.name", "groups": [setup["group"]]}
    keyed = {"Idempotency-Key": "the-only-one"}

    with queue_refusing_the_web(herald) as (web_env, disk):
        herald.start("web", **web_env)
        plain = herald.api_post("/api/v2/broadcasts.json", body)
        first = herald.api_post("/api/v2/broadcasts.json", {**body, "text": "Again"}, headers=keyed)
        replay = herald.api_post("/api/v2/broadcasts.json", {**body, "text": "Again"}, headers=keyed)

        # Stored, so answered 201 (a client that saw an error would send it again)...
        assert plain.status_code == 201, plain.text
        assert plain.json()["status"] == "pending"
        assert first.status_code == 201, first.text
        # ... and a replay of the keyed one answers what happened: the same 201, nothing written again.
        assert replay.status_code == 201
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
        ids = {plain.json()["id"], first.json()["id"]}
        assert set(Broadcast.objects.using(herald.db).values_list("id", flat=True)) == ids
        # The refusal is logged, with what the queue said, and left nothing half-written.
        log = herald.tail("web", lines=400)
        assert log.count("could not queue herald.msgs.tasks.start_broadcast") == 2, log
        if disk is not None:
            assert "No space left on device" in log
            assert not [p for p in disk.files() if p.name.endswith(".partial")]
            disk.free()

        # The tick finds the broadcasts nobody started and starts them.
        def sent() -> bool:
            broadcasts = Broadcast.objects.using(herald.db).filter(id__in=ids)
            return len(gateway.requests) >= 2 * RECIPIENTS and all(
                b.status == BroadcastStatus.COMPLETED for b in broadcasts
            )

        wait_until(sent, "both broadcasts sent by the tick")
        time.sleep(QUIET_SECONDS)

    # Exactly once: one message per recipient and broadcast, each handed to the gateway once.
    msgs = Msg.objects.using(herald.db).filter(broadcast_id__in=ids)
    assert msgs.count() == 2 * RECIPIENTS
    seen = Counter(request.json["id"] for request in gateway.requests)
    assert sorted(seen) == sorted(str(u) for u in msgs.values_list("uuid", flat=True))
    assert set(seen.values()) == {1}, seen


# Deliveries too: a fan-out whose delivery tasks are refused still counts as done, and the tick delivers.


@pytest.mark.django_db(transaction=True)  # the batches really commit, so their on_commit hand-offs run
def test_a_fan_out_whose_delivery_task_is_refused_is_not_a_failure_and_the_tick_delivers(
    settings, workspace, caplog, tmp_path
):
    if settings.CELERY_BROKER_URL != "filesystem://":
        pytest.skip("the broker is Redis here: the live test above refuses it")
    with FakeGateway() as gateway:
        channel = gateway_channel(workspace, gateway.url)
        contacts = [make_contact(workspace, f"C{n}", [f"tel:+25078800000{n}"]) for n in range(RECIPIENTS)]
        broadcast = make_broadcast(workspace, "Hi", contacts=contacts)

        # This process's own queue folder, on a full file system while the fan-out runs.
        with small_filesystem(settings.QUEUE_DIR, size="1m") as disk:
            disk.fill()
            tasks.start_broadcast(broadcast.id)  # here and now, as a worker runs it
            assert disk.files() == []  # (no partial file either)

        broadcast.refresh_from_db()
        assert (broadcast.status, broadcast.failures) == (BroadcastStatus.COMPLETED, 0)
        assert Msg.objects.filter(broadcast=broadcast, status=MsgStatus.QUEUED).count() == RECIPIENTS
        refused = [r for r in caplog.records if "could not queue herald.msgs.tasks.deliver_channel" in r.getMessage()]
        assert refused
        assert refused[0].exc_info is not None
        assert gateway.requests == []

        with eager():  # the tick's own tasks, run in this process
            tasks.tick()  # at once: the refused task doesn't hold back the next tick's
        assert sorted(r.json["to"] for r in gateway.requests) == sorted(f"+25078800000{n}" for n in range(RECIPIENTS))
        assert Msg.objects.filter(channel=channel, status=MsgStatus.WIRED).count() == RECIPIENTS
