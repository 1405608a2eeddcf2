"""A poison broadcast: one whose fan-out gets its worker killed, every time. It must end `failed` after
HERALD_BROADCAST_MAX_FAILURES attempts, not be resumed forever (a dead worker raises nothing to count), and
another workspace must go on sending.

The poison is data Herald no longer accepts but may still hold from before its limits: contacts whose field values
are 40 MB each. Reading them for the fan-out takes the worker's memory well past its usual size, and a watchdog
here plays the kernel's OOM killer under a memory limit: it SIGKILLs the worker as soon as its resident size goes
over the limit. The worker is the one `herald serve` runs and restarts; everything is real processes (see live.py).
Slow (about a minute): marked `slow`.
"""

import os
import signal
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import cast

import pytest

from herald.contacts.models import Contact
from herald.msgs.models import BroadcastStatus, Msg, MsgStatus
from herald.testing.gateway import hang

from .live import Installation, Watch, backend_name

pytestmark = pytest.mark.slow

MAX_FAILURES = 3
SETTINGS = {
    "HERALD_TICK_SECONDS": "0.5",
    # Longer than reading the poison takes on a busy machine: an attempt still alive is not claimed again.
    "HERALD_BROADCAST_STALL_SECONDS": "6",
    "HERALD_BROADCAST_MAX_FAILURES": str(MAX_FAILURES),
    "HERALD_DELIVERY_LEASE_SECONDS": "2",  # a killed worker's send lease expires quickly
    "HERALD_SEND_RETRY_DELAYS": "1",
}
POISON_VALUE_CHARS = 40_000_000  # per contact: a batch of them is well over the headroom below
MEMORY_HEADROOM = 150 * 1024 * 1024  # what the worker may grow beyond its size when idle before it is killed
INNOCENT_RECIPIENTS = 30
SETTLE_LIMIT_SECONDS = 180


def resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class OOMKiller(threading.Thread):
    """SIGKILLs `herald serve`'s worker whenever its resident size passes `limit` bytes, as the kernel does to a
    process over its memory limit; `kills` counts the workers it killed."""

    def __init__(self, herald: Installation, limit: int):
        super().__init__(daemon=True)
        self.herald, self.limit = herald, limit
        self.kills = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.005):
            pid = self.herald.embedded_worker()
            with suppress(OSError):  # between a worker's death and the next one's start
                if pid and resident_bytes(pid) > self.limit:
                    os.kill(pid, signal.SIGKILL)
                    self.kills += 1
                    while self.herald.embedded_worker() == pid:  # until `herald serve` has noticed
                        time.sleep(0.01)


@contextmanager
def oom_killer(herald: Installation, limit: int):
    killer = OOMKiller(herald, limit)
    killer.start()
    try:
        yield killer
    finally:
        killer.stopping.set()
        killer.join(timeout=10)


def post_broadcast(herald: Installation, setup: dict, text: str) -> Watch:
    herald.token = setup["token"]
    response = herald.api_post("/api/v2/broadcasts.json", {"text": text, "groups": [setup["group"]]})
    assert response.status_code == 201, response.text
    return Watch(herald, response.json()["id"])


def all_wired(watch: Watch, recipients: int) -> bool:
    broadcast = watch.broadcast
    return broadcast.status == BroadcastStatus.COMPLETED and watch.count(MsgStatus.WIRED) == recipients


def idle_worker_size(herald: Installation) -> int:
    deadline = time.monotonic() + 60
    while not herald.embedded_worker():
        assert time.monotonic() < deadline, "herald serve started no worker"
        time.sleep(0.1)
    time.sleep(2)  # its start-up done
    return resident_bytes(cast(int, herald.embedded_worker()))  # the loop above waited for it


def test_a_fan_out_that_kills_its_worker_ends_failed_and_others_keep_sending(herald, gateway, figures):
    gateway.will(hang(0.02))
    innocent = herald.provision(gateway.url, contacts=INNOCENT_RECIPIENTS, tps=10)  # delivery lasts a few seconds
    poison = herald.provision(gateway.url, contacts=2)
    Contact.objects.using(herald.db).filter(workspace__uuid=poison["workspace"]).update(
        fields={"bio": "x" * POISON_VALUE_CHARS}
    )
    herald.start("serve")
    limit = idle_worker_size(herald) + MEMORY_HEADROOM

    with oom_killer(herald, limit) as killer:
        # The innocent workspace's broadcast is fanned out, and being delivered when the poison arrives.
        sending = post_broadcast(herald, innocent, "Hi @contact.name")
        sending.wait_until(lambda: sending.broadcast.status == BroadcastStatus.COMPLETED, "the fan-out done")
        bad = post_broadcast(herald, poison, "About you: @fields.bio")

        bad.wait_until(lambda: bad.broadcast.status == BroadcastStatus.FAILED, "the poison broadcast failed",
                       timeout=SETTLE_LIMIT_SECONDS)  # fmt: skip
        # Once failed it is never begun again: each attempt cost a worker, and that was all.
        found = (bad.broadcast.failures, bad.broadcast.msg_count, killer.kills)
        assert found == (MAX_FAILURES, 0, MAX_FAILURES), herald.tail("serve", 120)
        assert not Msg.objects.using(herald.db).filter(broadcast_id=bad.broadcast_id).exists()

        # The other workspace's messages all went, those the kills interrupted too, and new ones still go.
        sending.wait_until(lambda: all_wired(sending, INNOCENT_RECIPIENTS), "the innocent broadcast sent")
        after = post_broadcast(herald, innocent, "Still here, @contact.name?")
        after.wait_until(lambda: all_wired(after, INNOCENT_RECIPIENTS), "a broadcast after the poison sent")
        time.sleep(3)  # a tick or two more: the failed broadcast stays failed, the worker alive
        assert (bad.broadcast.status, killer.kills) == (BroadcastStatus.FAILED, MAX_FAILURES)

    figures(backend=backend_name(), faults=f"{killer.kills} x OOM kill of the worker", poison="failed",
            other_workspace=f"{2 * INNOCENT_RECIPIENTS} wired")  # fmt: skip
