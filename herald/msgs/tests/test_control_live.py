"""Pause, resume and interrupt on a real installation (`herald worker` and `herald web`, a real gateway counting what
reaches it), with the worker killed with SIGKILL while a broadcast is paused and while a resumed one is sending.

- Pause: from one second after the pause answered, nothing more reaches the gateway; what had reached it is
  recorded `wired`; the rest waits. A worker killed while it is paused sends nothing when it comes back.
- Resume: every recipient gets exactly one message; the gateway sees each once, except messages on the wire at a
  kill of the worker (handed over, not yet recorded), which may go twice.
- Interrupt: from one second after it answered nothing more reaches the gateway, and what did is `wired`, the rest
  `failed` (`interrupted`).

On the embedded default, or on PostgreSQL + Redis when the environment names them (see `live.py`). Slow.
"""

import time

import pytest

from herald.msgs.models import BroadcastStatus, FailedReason, MsgStatus
from herald.msgs.status import AWAITING_SEND
from herald.testing.gateway import hang

from .live import Installation, Watch, backend_name
from .test_crash_recovery import check_invariants, post_broadcast, seen_ids

pytestmark = pytest.mark.slow

RECIPIENTS = 600
TPS = 100  # about 6 s of delivery: time to act in the middle of it
SETTINGS = {
    "HERALD_FANOUT_BATCH": "20",
    "HERALD_TICK_SECONDS": "0.5",
    "HERALD_BROADCAST_STALL_SECONDS": "2",
    "HERALD_DELIVERY_LEASE_SECONDS": "2",  # a killed worker's send lease expires quickly
    "HERALD_SEND_RETRY_DELAYS": "1",
}
# The promise: no hand-over later than this after the action answered.
TAKES_EFFECT_SECONDS = 1.0
# How long the test then watches the gateway for a late hand-over.
WATCH_SECONDS = 2.0


def act(herald: Installation, watch: Watch, action: str) -> None:
    body = {"broadcasts": [watch.broadcast_id], "action": action}
    response = herald.api_post("/api/v2/broadcast_actions.json", body)
    assert response.status_code == 204, response.text


def under_way(watch: Watch, gateway, at_least: int) -> None:
    watch.wait_until(
        lambda: len(gateway.requests) >= at_least,
        f"{at_least} messages handed over",
        too_late=lambda: len(gateway.requests) >= RECIPIENTS - TPS,
    )


def nothing_more_reaches_the_gateway(gateway) -> int:
    """Wait until the action has taken effect, then check that no hand-over comes after it; how many came."""
    time.sleep(TAKES_EFFECT_SECONDS)
    settled = len(gateway.requests)
    time.sleep(WATCH_SECONDS)
    assert len(gateway.requests) == settled, "a message was handed over more than a second after the action"
    return settled


def handed_over_is_recorded(watch: Watch, gateway) -> set[str]:
    wired = {str(u) for u in watch.msgs.filter(status=MsgStatus.WIRED).values_list("uuid", flat=True)}
    assert set(seen_ids(gateway)) == wired
    return wired


def kill_and_restart_worker(herald: Installation, watch: Watch, gateway) -> set[str]:
    """SIGKILL the worker and start it again; the ids on the wire at that instant (seen, not recorded)."""
    worker = herald.processes["worker"]
    worker.kill()
    time.sleep(0.5)  # requests the dead process had already written reach the gateway's log
    wired = {str(u) for u in watch.msgs.filter(status=MsgStatus.WIRED).values_list("uuid", flat=True)}
    on_the_wire = set(seen_ids(gateway)) - wired
    watch.wait_until(lambda: not worker.group_alive(), "every process of the killed worker gone", timeout=15)
    herald.start("worker")
    return on_the_wire


def sending(herald, gateway) -> Watch:
    """A broadcast to RECIPIENTS going out at TPS through a worker and a web server, some of it handed over."""
    gateway.will(hang(0.01))
    setup = herald.provision(gateway.url, contacts=RECIPIENTS, tps=TPS)
    herald.start("worker")
    herald.start("web")
    watch = Watch(herald, post_broadcast(herald, setup["group"]))
    under_way(watch, gateway, TPS)
    return watch


def test_pause_holds_within_a_second_and_resume_after_a_kill_sends_each_once(herald, gateway, figures):
    watch = sending(herald, gateway)

    act(herald, watch, "pause")
    handed_over = nothing_more_reaches_the_gateway(gateway)
    assert watch.broadcast.status == BroadcastStatus.PAUSED
    assert len(handed_over_is_recorded(watch, gateway)) == handed_over < RECIPIENTS

    on_the_wire = kill_and_restart_worker(herald, watch, gateway)
    assert on_the_wire == set()  # a paused broadcast has nothing on the wire
    time.sleep(WATCH_SECONDS)  # the restarted worker and its tick leave a paused broadcast alone
    assert len(gateway.requests) == handed_over
    assert watch.broadcast.status == BroadcastStatus.PAUSED

    act(herald, watch, "resume")
    watch.wait_until(watch.settled, "every message sent after the resume")
    found = check_invariants(herald, watch, gateway, RECIPIENTS)
    assert not found["duplicates"]
    figures(
        backend=backend_name(),
        faults="pause, kill -9 worker, resume",
        handed_over_before_pause_took_effect=handed_over,
        lost=found["lost"],
        duplicates=0,
    )


def test_a_kill_during_a_resumed_broadcast_repeats_only_what_was_on_the_wire(herald, gateway, figures):
    gateway.will(hang(0.01))
    setup = herald.provision(gateway.url, contacts=RECIPIENTS, tps=TPS)
    herald.start("worker")
    herald.start("web")
    watch = Watch(herald, post_broadcast(herald, setup["group"]))
    under_way(watch, gateway, TPS // 2)
    act(herald, watch, "pause")
    handed_over = nothing_more_reaches_the_gateway(gateway)
    act(herald, watch, "resume")

    under_way(watch, gateway, handed_over + TPS)
    on_the_wire = kill_and_restart_worker(herald, watch, gateway)
    watch.wait_until(watch.settled, "every message sent after the kill")
    found = check_invariants(herald, watch, gateway, RECIPIENTS)
    unexplained = found["duplicates"] - on_the_wire
    assert not unexplained, f"{len(unexplained)} messages sent twice that were not on the wire at the kill"
    figures(
        backend=backend_name(),
        faults="pause, resume, kill -9 worker while sending",
        lost=found["lost"],
        duplicates=len(found["duplicates"]),
        why="on the wire at the kill" if found["duplicates"] else "-",
    )


def test_interrupt_sends_nothing_more_and_records_what_the_gateway_took(herald, gateway, figures):
    watch = sending(herald, gateway)

    act(herald, watch, "interrupt")
    handed_over = nothing_more_reaches_the_gateway(gateway)
    watch.wait_until(lambda: not watch.count(*AWAITING_SEND), "every message wired or failed")
    assert watch.broadcast.status == BroadcastStatus.INTERRUPTED
    wired = handed_over_is_recorded(watch, gateway)
    assert len(wired) == handed_over
    assert max(seen_ids(gateway).values()) == 1
    failed = watch.msgs.filter(status=MsgStatus.FAILED)
    assert set(failed.values_list("failed_reason", flat=True)) == {FailedReason.INTERRUPTED}
    assert failed.count() + len(wired) == watch.msgs.count()
    time.sleep(WATCH_SECONDS)  # the tick neither resumes nor sends it
    assert len(gateway.requests) == handed_over
    figures(
        backend=backend_name(),
        faults="interrupt while sending",
        handed_over=handed_over,
        failed_interrupted=failed.count(),
        not_created=RECIPIENTS - watch.msgs.count(),
    )
