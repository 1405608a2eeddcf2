"""Scheduled broadcasts on a real installation: `herald worker` and `herald web` processes, the worker killed with
SIGKILL while it holds the start tasks of broadcasts scheduled a few seconds ahead, then started again.

Nothing of a broadcast is made or sent before its `send_at`; afterwards every recipient has exactly one message
(the restarted worker, its tick and any start task that comes back start it once between them) and the gateway
saw each once. On the embedded default, or on PostgreSQL + Redis when the environment names them (see `live.py`).
"""

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from herald.msgs.models import BroadcastStatus

from .live import Installation, Watch

pytestmark = pytest.mark.slow

RECIPIENTS = 30
# Bounds that end a hung test; they don't judge speed (bench/schedule.py measures the lateness).
LATE_LIMIT_SECONDS = 15


def schedule(herald: Installation, group: str, seconds: float) -> tuple[Watch, datetime]:
    send_at = datetime.now(UTC) + timedelta(seconds=seconds)
    body = {"text": "Hi @contact.name", "groups": [group], "send_at": send_at.isoformat()}
    response = herald.api_post("/api/v2/broadcasts.json", body)
    assert response.status_code == 201, response.text
    assert (response.json()["status"], response.json()["progress"]["started"]) == ("pending", 0)
    return Watch(herald, response.json()["id"]), send_at


def untouched_until_due(watches: list[tuple[Watch, datetime]], gateway) -> None:
    """Watch the broadcasts until the last is due: each one not yet due has no message and is still pending."""
    first, last = min(send_at for _, send_at in watches), max(send_at for _, send_at in watches)
    while (now := datetime.now(UTC)) < last - timedelta(seconds=0.2):
        if now < first - timedelta(seconds=0.2):
            assert not gateway.requests, "sent before its send_at"
        for watch, send_at in watches:
            if now < send_at - timedelta(seconds=0.2):  # read before its time (the query itself takes a moment)
                broadcast = watch.broadcast
                assert (broadcast.status, broadcast.contact_count) == (BroadcastStatus.PENDING, None)
                assert not watch.msgs.exists(), "fanned out before its send_at"
        time.sleep(0.05)


def sent_once(watch: Watch, send_at: datetime, gateway, late_limit: float = LATE_LIMIT_SECONDS) -> None:
    watch.wait_until(watch.settled, "the scheduled broadcast completed", timeout=LATE_LIMIT_SECONDS + 60)
    broadcast = watch.broadcast
    assert broadcast.msg_count == broadcast.contact_count == RECIPIENTS
    per_contact = Counter(watch.msgs.values_list("contact_id", flat=True))
    assert len(per_contact) == RECIPIENTS
    assert set(per_contact.values()) == {1}
    first = min(watch.msgs.values_list("created_on", flat=True))
    assert send_at <= first < send_at + timedelta(seconds=late_limit)
    seen = Counter(request.json["id"] for request in list(gateway.requests))
    sent = {str(u) for u in watch.msgs.values_list("uuid", flat=True)}
    assert sent <= set(seen)
    assert all(seen[id_] == 1 for id_ in sent)


def test_started_on_time_once_by_a_live_worker_and_after_a_kill_and_restart(herald, gateway):
    setup = herald.provision(gateway.url, contacts=RECIPIENTS)
    herald.start("worker")
    herald.start("web")

    # Two broadcasts whose start tasks the worker holds when it is killed, one after it is back.
    held = [schedule(herald, setup["group"], 5), schedule(herald, setup["group"], 6)]
    time.sleep(0.5)  # the worker has taken their start tasks from the queue
    worker = herald.processes["worker"]
    worker.kill()
    held[0][0].wait_until(lambda: not worker.group_alive(), "every process of the killed worker gone", timeout=15)
    herald.start("worker")
    after_restart = schedule(herald, setup["group"], 3)

    untouched_until_due([*held, after_restart], gateway)
    for watch, send_at in [*held, after_restart]:
        sent_once(watch, send_at, gateway)
    assert len(gateway.requests) == 3 * RECIPIENTS


def test_a_repeat_s_occurrence_is_made_and_sent_once_by_two_workers_one_killed_at_its_time(herald, gateway):
    """Two workers, each with its own tick, race to fire the first occurrence of a daily repeat; one is killed
    with SIGKILL at that moment. One child, one message per recipient, each seen once by the gateway."""
    from herald.msgs.models import Broadcast  # noqa: PLC0415 — as live.py's Watch: models once Django is set up

    setup = herald.provision(gateway.url, contacts=RECIPIENTS)
    doomed = herald.start("worker")
    herald.start("worker")
    herald.start("web")
    first = datetime.now(UTC) + timedelta(seconds=4)
    body = {"text": "Hi @contact.name", "groups": [setup["group"]], "send_at": first.isoformat(),
            "schedule": {"repeat": "daily", "timezone": "Europe/Paris"}}  # fmt: skip
    response = herald.api_post("/api/v2/broadcasts.json", body)
    assert response.status_code == 201, response.text
    parent_id = response.json()["id"]
    children = Broadcast.objects.using(herald.db).filter(parent_id=parent_id)

    while datetime.now(UTC) < first - timedelta(seconds=0.3):
        assert not children.exists(), "an occurrence made before its time"
        time.sleep(0.05)
    while datetime.now(UTC) < first:
        time.sleep(0.01)
    doomed.kill()

    watch = Watch(herald, parent_id)
    watch.wait_until(children.exists, "the occurrence's child made", timeout=LATE_LIMIT_SECONDS)
    (child,) = children
    assert child.occurrence == first.replace(microsecond=0) + timedelta(seconds=1)  # the start, to the whole second
    # The killed worker may have claimed the child's fan-out: the survivor resumes it once it has been quiet for
    # BROADCAST_STALL_SECONDS (30 by default), as for any broadcast whose worker died.
    sent_once(Watch(herald, child.id), first, gateway, late_limit=30 + LATE_LIMIT_SECONDS)
    assert children.count() == 1
    assert watch.broadcast.status == "P"  # the parent: pending while its schedule runs, no message of its own
    assert not watch.msgs.exists()
