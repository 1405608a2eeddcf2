"""Handing queued messages to their channel, at the channel's pace, without one channel holding up another.

One worker at a time holds a channel's send lease (a row update, so it works the same on SQLite and PostgreSQL and
across machines; renewed in the background while it sends, however slow the gateway). The holder sends the
channel's due messages a chunk at a time, concurrently within the chunk, never more than `tps` a second, and records
outcomes as they come in, a few at a time. A worker that dies lets the lease expire and the next one carries on:
messages it had on the wire at that instant (at most about twice `DELIVERY_CONCURRENCY`: those in flight and those
whose answer was not yet recorded) may go out again, everything else is sent once. A worker asked to stop finishes
the chunk on the wire, then lets go of the channel.

Taking turns: a delivery task sends for at most `DELIVERY_TASK_SECONDS`, then, if another channel has messages due,
hands the channel, lease and all, to a new task at the back of the delivery queue, so every channel with work gets
the delivery pool in turn. A channel alone with work keeps its thread for another turn instead: a hand-over costs a
gap (re-queue, lease, query) that would only slow it down. A chunk whose gateway has not answered by the end of a
turn is parked: a thread of this process waits for the answers, records them and hands the channel on, so a
gateway that never answers holds a few sending threads, not the pool's.

Circuit breaker: `CHANNEL_BREAKER_FAILURES` sends in a row that got no answer at all (timed out, refused, dropped)
pause the channel for `CHANNEL_BREAKER_SECONDS`. The lease then belongs to `CIRCUIT_OPEN`: no worker sends for the
channel and the tick doesn't enqueue it; its messages stay due and untouched (a send the breaker skipped is not an
attempt). When the pause is over one message is tried first (half-open): an answer resumes sending, none pauses
the channel again.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from herald.channels.base import GatewayUnreachable, SendResult
from herald.channels.models import Channel
from herald.channels.registry import get_type

from . import windows
from .control import Gate
from .models import Msg
from .status import record_send_results

logger = logging.getLogger(__name__)

UNLIMITED_CHUNK = 100
# The lease owner of a channel paused by its circuit breaker.
CIRCUIT_OPEN = "circuit-open"


# What `_attempt` returns for a send the breaker skipped: not sent, nothing recorded, the message stays due.
class Skipped:
    pass


SKIPPED = Skipped()
# What a send came to: the sender's result, the exception it raised, or SKIPPED.
Outcome = SendResult | Exception | Skipped

# Set when the worker is shutting down (see herald/runtime/celery.py): delivery loops stop after their current chunk.
_stopping = threading.Event()
# Parked chunks still waiting for their gateway's answers; a stopping worker waits for them.
_parked: set[threading.Thread] = set()
_parked_lock = threading.Lock()


def stop_soon() -> None:
    _stopping.set()


def wait_for_parked() -> None:
    """Block until every parked chunk has its answers recorded (each is bounded by the channel send timeout)."""
    while True:
        with _parked_lock:
            threads = list(_parked)
        if not threads:
            return
        for thread in threads:
            thread.join()


@dataclass(frozen=True)
class Handoff:
    """What a delivery task passes to the next one for the same channel: the lease it holds, and the breaker's count
    of sends in a row without an answer."""

    owner: str
    failures: int = 0


def acquire_lease(channel_id: int, owner: str) -> bool:
    now = timezone.now()
    free = Q(send_lease_until__isnull=True) | Q(send_lease_until__lt=now) | Q(send_lease_owner=owner)
    taken = (
        Channel.objects.filter(id=channel_id, is_active=True)
        .filter(free)
        .update(send_lease_owner=owner, send_lease_until=now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS))
    )
    return taken == 1


def release_lease(channel_id: int, owner: str) -> None:
    Channel.objects.filter(id=channel_id, send_lease_owner=owner).update(send_lease_owner="", send_lease_until=None)


def open_circuit(channel_id: int, owner: str) -> bool:
    """Pass the lease from `owner` to the breaker for the cool-off."""
    until = timezone.now() + timedelta(seconds=settings.CHANNEL_BREAKER_SECONDS)
    paused = Channel.objects.filter(id=channel_id, send_lease_owner=owner)
    return paused.update(send_lease_owner=CIRCUIT_OPEN, send_lease_until=until) == 1


def due_messages(channel_id: int, limit: int, now: datetime) -> list[Msg]:
    """The next chunk: messages sent on their own first (`msgs_outbox_single`, an index of those alone, finds them
    without reading the backlog), then the rest in id order, so a reply is never stuck behind a big broadcast."""
    # A channel disabled while its sender holds the lease has nothing due from the next chunk on.
    due = Msg.objects.due(now).filter(channel_id=channel_id, channel__is_active=True)
    chunk = list(_in_order(due.filter(broadcast_id__isnull=True), limit))
    if len(chunk) < limit:
        chunk += _in_order(due.exclude(id__in=[msg.id for msg in chunk]), limit - len(chunk))
    return chunk


def _in_order(msgs: QuerySet[Msg], limit: int) -> QuerySet[Msg]:
    return windows.with_send_window(msgs.select_related("contact", "contact_urn")).order_by("id")[:limit]


def others_due(channel_id: int, now: datetime) -> bool:
    """Whether another active channel, not paused by its breaker, has messages due: the one query a turn's end
    costs. Asked channel by channel (`msgs_outbox` leads with the channel), so this channel's own backlog, however
    long, is not read.

    A channel whose sender runs on another thread counts too (the database can't tell it from one whose next task
    waits in the queue): a needless hand-over costs a gap, never a turn."""
    due_there = Msg.objects.due(now).filter(channel_id=OuterRef("id"))
    paused = Q(send_lease_owner=CIRCUIT_OPEN, send_lease_until__gte=now)
    return (
        Channel.objects.filter(is_active=True).exclude(id=channel_id).exclude(paused).filter(Exists(due_there)).exists()
    )


class LeaseKeeper:
    """Renews the lease in the background (three times per lease length) until stopped: however slow the gateway, a
    live sender's lease never runs out, only a dead one's does. `lost` is set if it was taken over."""

    def __init__(self, channel_id: int, owner: str):
        self.channel_id, self.owner = channel_id, owner
        self.lost, self._done = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"send-lease-{channel_id}", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        renewed = time.monotonic()
        try:
            while not self._done.wait(settings.DELIVERY_LEASE_SECONDS / 3):
                try:
                    if not acquire_lease(self.channel_id, self.owner):
                        self.lost.set()
                        return
                    renewed = time.monotonic()
                except (OperationalError, InterfaceError):
                    # A busy or briefly unreachable database: the lease written last still holds, so try once more
                    # at the next beat, and give up only when the lease may run out before another try.
                    connection.close()  # the next try reconnects
                    if time.monotonic() - renewed >= settings.DELIVERY_LEASE_SECONDS * 2 / 3:
                        raise
                    logger.warning("could not renew the send lease of channel %s; trying again", self.channel_id)
        except Exception:
            logger.exception("could not renew the send lease of channel %s", self.channel_id)
            self.lost.set()
        finally:
            connection.close()  # this thread's own

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


class Breaker:
    """Counts a channel's sends in a row that got no answer; any answer, even an error, starts the count again.

    Once a send got no answer, the next one starts only when those already on the wire have answered or failed
    too (each may be the failure that opens the breaker): a hanging gateway gets the sends that were on the wire
    together, then nothing more. A half-open channel (one failure short of opening) so sends one message first."""

    def __init__(self, failures: int):
        self.failures = failures
        self.on_the_wire = 0
        self._changed = threading.Condition()

    @property
    def open(self) -> bool:
        limit: int = settings.CHANNEL_BREAKER_FAILURES
        return 0 < limit <= self.failures

    def admit(self) -> bool:
        """Wait until a send may start; False once the breaker is open (the send is skipped)."""
        enabled = settings.CHANNEL_BREAKER_FAILURES > 0
        with self._changed:
            self._changed.wait_for(lambda: self.open or not (enabled and self.failures and self.on_the_wire))
            if self.open:
                return False
            self.on_the_wire += 1
            return True

    def note(self, outcome: Outcome) -> None:
        with self._changed:
            self.on_the_wire -= 1
            self.failures = self.failures + 1 if isinstance(outcome, GatewayUnreachable) else 0
            self._changed.notify_all()


def deliver(channel_id: int, handoff: Handoff | None = None, hand_on: Callable[[Handoff], object] | None = None) -> int:
    """Send what is due on a channel; returns how many messages this call tried to send.

    With `hand_on` (the delivery task's: it enqueues the channel's next task), stop after `DELIVERY_TASK_SECONDS`
    if another channel has messages due (else go on for another turn, and so on) and pass it the channel, lease and
    all (`Handoff`), if more may be due. Without, send everything due.
    """
    channel = Channel.objects.filter(id=channel_id).first()
    if channel is None:
        return 0
    # The breaker's pause is over if we get the lease it held: half-open, one more failure opens it again.
    half_open = channel.send_lease_owner == CIRCUIT_OPEN
    owner = handoff.owner if handoff else uuid.uuid4().hex
    if not acquire_lease(channel_id, owner):
        return 0
    failures = settings.CHANNEL_BREAKER_FAILURES - 1 if half_open else (handoff.failures if handoff else 0)
    return Run(channel, owner, failures, hand_on).send()


class Run:
    """One task's turn at a channel, from taking its lease to passing it on (to the next task, to the breaker, or
    back to anyone)."""

    def __init__(self, channel: Channel, owner: str, failures: int, hand_on: Callable[[Handoff], object] | None):
        self.channel, self.owner, self.hand_on = channel, owner, hand_on
        self.sender = get_type(channel.channel_type)
        self.breaker = Breaker(failures)
        self.deadline: float | None = time.monotonic() + settings.DELIVERY_TASK_SECONDS if hand_on else None
        self.pace_until = 0.0  # a rate-limited channel's next chunk starts no earlier (time.monotonic)
        self.last_send_due = 0.0  # when the last send of the latest chunk was due to start
        self.attempted = 0
        self._count_lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=settings.DELIVERY_CONCURRENCY, thread_name_prefix="send")
        self.lease = LeaseKeeper(channel.id, owner)
        self.gate = Gate()  # a message whose broadcast was paused / interrupted / expired since its chunk: skipped

    def send(self) -> int:
        try:
            on_the_wire, more = self._send_chunks()
        except BaseException:
            self._close(more=False)
            raise
        if on_the_wire:
            self._park(on_the_wire)
        else:
            self._close(more)
        return self.attempted

    def _send_chunks(self) -> tuple[dict[Future[Outcome], Msg], bool]:
        """Send chunk after chunk until nothing is due or this run must stop. Returns the sends still on the wire
        when the task's time ran out (to be parked), and whether more may be due."""
        while True:
            if self._turn_over():
                return {}, True
            self._wait_for_pace()
            chunk = due_messages(self.channel.id, self.channel.tps or UNLIMITED_CHUNK, timezone.now())
            if not chunk:
                return {}, False
            on_the_wire = self._collect(self._submit(chunk), self._answers_deadline())
            if on_the_wire:
                return on_the_wire, True
            if self._must_stop():
                return {}, False

    def _turn_over(self) -> bool:
        """Whether this run must hand the channel on: its turn is up and another channel has messages due. Alone, it
        takes another turn, keeping the channel's lease (the keeper goes on renewing it) and its pace (the next
        chunk is timed from the last one, as within a turn: no gap, no rate budget lost)."""
        if self.deadline is None or time.monotonic() < self.deadline:
            return False
        if others_due(self.channel.id, timezone.now()):
            return True
        self.deadline = time.monotonic() + settings.DELIVERY_TASK_SECONDS
        return False

    def _must_stop(self) -> bool:
        if _stopping.is_set():
            logger.info("worker stopping: leaving channel %s to the next one", self.channel.uuid)
            return True
        if self.lease.lost.is_set():
            logger.warning("lost the send lease of channel %s; stopping", self.channel.uuid)
            return True
        return self.breaker.open

    def _answers_deadline(self) -> float | None:
        """How long the task waits for a chunk's answers before parking it: until the end of its turn, and in any
        case a turn's length after the chunk's last send was due (a rate-limited chunk spreads over its second)."""
        if self.deadline is None:
            return None
        turn: float = settings.DELIVERY_TASK_SECONDS
        return max(self.deadline, self.last_send_due + turn)

    def _wait_for_pace(self) -> None:
        time.sleep(max(0.0, self.pace_until - time.monotonic()))

    def _submit(self, chunk: list[Msg]) -> dict[Future[Outcome], Msg]:
        """Put a chunk on the wire. On a rate-limited channel its sends are spread evenly over the chunk's second
        (the i-th not before `started + i / tps`) and the next chunk waits for the second to end: no one-second
        window, within a task or across tasks, ever sees more than `tps`. Timed from the first send, not from the
        query before it: a slow query followed by a fast one would otherwise let two chunks fall within one second."""
        started = time.monotonic()
        tps = self.channel.tps
        if tps:
            self.pace_until = started + 1.0
        spacing = 1.0 / tps if tps else 0.0
        self.last_send_due = started + (len(chunk) - 1) * spacing
        for msg in chunk:
            msg.channel = self.channel
        self.gate.watch(chunk)
        return {self.pool.submit(self._attempt, msg, started + i * spacing): msg for i, msg in enumerate(chunk)}

    def _attempt(self, msg: Msg, not_before: float) -> Outcome:
        """The sender's result, or the exception it raised (recorded, never propagated: one bad message stops
        nothing); `SKIPPED` once the breaker is open, or if the gate stops it (control.Gate: paused, interrupted,
        expired); `windows.WindowClosed` if its send window has closed."""
        delay = not_before - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if not self.gate.admits(msg):
            return SKIPPED
        if closed := windows.closed_at_hand_over(msg, timezone.now()):
            return closed  # recorded as waiting for its window: not an attempt, the breaker never hears of it
        if not self.breaker.admit():
            return SKIPPED
        with self._count_lock:
            self.attempted += 1
        try:
            outcome: Outcome = self.sender.send(self.channel, msg)
        except Exception as exc:
            outcome = exc
        self.breaker.note(outcome)
        return outcome

    def _collect(self, futures: dict[Future[Outcome], Msg], deadline: float | None) -> dict[Future[Outcome], Msg]:
        """Record outcomes as they arrive, a pool's worth per transaction: few writes, and a crash can only repeat
        the sends it had on the wire or had just heard back about. Returns the sends still unanswered at
        `deadline` (none if it is None)."""
        pending, answered = set(futures), list[tuple[Msg, SendResult | Exception]]()
        while pending:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, pending = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            outcomes = ((futures[f], f.result()) for f in done)
            answered += [(msg, outcome) for msg, outcome in outcomes if not isinstance(outcome, Skipped)]
            if answered and (len(answered) >= settings.DELIVERY_CONCURRENCY or not pending or not done):
                with transaction.atomic():
                    record_send_results(answered, timezone.now())
                answered = []
            if not done:  # out of time
                return {f: futures[f] for f in pending}
        return {}

    def _park(self, on_the_wire: dict[Future[Outcome], Msg]) -> None:
        logger.info("channel %s: %s sends unanswered at the end of the task's turn; parked", self.channel.uuid,
                    len(on_the_wire))  # fmt: skip
        thread = threading.Thread(target=self._finish_parked, args=(on_the_wire,), name=f"parked-{self.channel.id}")
        with _parked_lock:
            _parked.add(thread)
        thread.start()

    def _finish_parked(self, on_the_wire: dict[Future[Outcome], Msg]) -> None:
        try:
            self._collect(on_the_wire, None)
            self._close(more=True)
        except Exception:
            logger.exception("recording the parked sends of channel %s failed", self.channel.uuid)
            self._close(more=False)
        finally:
            connection.close()  # this thread's own
            with _parked_lock:
                _parked.discard(threading.current_thread())

    def _close(self, more: bool) -> None:
        """Pass the lease on: to the breaker if it opened, to the next task if more may be due, else to anyone."""
        self.lease.stop()
        self.pool.shutdown(wait=True)
        self.gate.stop()
        if self.breaker.open:
            if open_circuit(self.channel.id, self.owner):
                logger.warning("channel %s: %s sends in a row got no answer; pausing it for %g s",
                               self.channel.uuid, self.breaker.failures, settings.CHANNEL_BREAKER_SECONDS)  # fmt: skip
            return
        if more and self.hand_on and not _stopping.is_set() and not self.lease.lost.is_set():
            self._wait_for_pace()
            try:
                self.hand_on(Handoff(self.owner, self.breaker.failures))
                return
            except Exception:
                logger.exception("could not hand channel %s on; the tick will pick it up", self.channel.uuid)
        release_lease(self.channel.id, self.owner)
