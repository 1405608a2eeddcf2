"""Pausing, resuming, interrupting and expiring a broadcast (`broadcast_actions.json`, `expire_at`).

- **pause**: the broadcast becomes `paused` (remembering its status in `paused_from`) and, in the same transaction,
  its messages waiting for a channel are held (`status.hold`): out of the delivery scan, so a paused backlog costs
  other broadcasts' chunks nothing. Its fan-out stops: the batch being written when the pause comes is written held
  (the pause and a batch take the same lock on the broadcast row, `fanout.write_batch`), the walk ends there. A
  scheduled broadcast paused before its time does not begin until it is resumed.
- **resume**: the status comes back, held messages are released (errored ones keep their retry time), and the caller
  queues the start (the fan-out carries on where it stopped: only recipients without a message get one) and the
  deliveries (`tasks.enqueue_resumed`).
- **interrupt**: the broadcast ends (`interrupted`) and every message not yet handed to a channel fails with reason
  `interrupted`; its fan-out writes nothing more.
- **expiry**: once `expire_at` has passed, the tick (`expire`) fails the messages not handed over with reason
  `expired`; the fan-out, if not done, goes on writing the remaining recipients' messages already failed `expired`,
  so every recipient has one message and the broadcast ends `completed`.

Messages already fetched into a sender's chunk are stopped by the pre-send gate (`Gate`), which knows within
`GATE_REFRESH_SECONDS` that a broadcast was paused, interrupted or expired; a send already on the wire may still
go, and is recorded as it went (`status.py`).
"""

import logging
import threading
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from herald.webhooks import events

from . import schedules, status
from .models import Broadcast, BroadcastStatus, FailedReason, Msg, MsgQuerySet, MsgStatus
from .msg_rows import NewMessage

logger = logging.getLogger(__name__)

B = BroadcastStatus
ACTIONS = ("pause", "resume", "interrupt")
# How stale the gate's knowledge of a broadcast may be: the pause target is 1 s, this is a quarter of it.
GATE_REFRESH_SECONDS = 0.25


class ActionRefused(Exception):
    """The action means nothing in the broadcast's state: `str()` names the broadcast and the state."""

    def __init__(self, broadcast: Broadcast, action: str, state: str):
        verb = {"pause": "paused", "resume": "resumed", "interrupt": "interrupted"}[action]
        super().__init__(f"Broadcast {broadcast.uuid} can't be {verb}: it is {state}.")


class Resumed(NamedTuple):
    """What a resume leaves to queue: the starts (broadcast id, its `send_at`) and the channels with work again."""

    starts: list[tuple[int, datetime | None]]
    channel_ids: set[int]


def state_of(broadcast: Broadcast) -> str:
    """The broadcast's state as the refusals name it."""
    if broadcast.expired_on is not None:
        return "expired"
    if broadcast.status == B.COMPLETED:
        return "completed, with messages still to send" if _has_unsent(broadcast) else "completed"
    if broadcast.status == B.PENDING and broadcast.send_at is not None:
        return "scheduled"
    return str(B(broadcast.status).label)


def allowed_actions(broadcast: Broadcast, has_unsent: bool | None = None) -> list[str]:
    """The actions `act` would do to the broadcast now (the web interface shows their buttons). `has_unsent`: whether
    messages of it still wait to be handed over, when the caller knows (from its counts); else it is asked."""
    return [action for action in ACTIONS if _may(action, broadcast, has_unsent)]


def _may(action: str, broadcast: Broadcast, has_unsent: bool | None = None) -> bool:
    if broadcast.expired_on is not None or broadcast.status in (B.FAILED, B.INTERRUPTED):
        return False
    if action == "resume":
        return broadcast.status == B.PAUSED
    if broadcast.status == B.COMPLETED:  # its fan-out is done, its messages may still be going out
        return _has_unsent(broadcast) if has_unsent is None else has_unsent
    return action == "interrupt" or broadcast.status != B.PAUSED


def _has_unsent(broadcast: Broadcast) -> bool:
    return _msgs(broadcast.id).filter(status__in=status.AWAITING_SEND).exists()


def _msgs(broadcast_id: int) -> MsgQuerySet:
    return Msg.objects.outgoing().filter(broadcast_id=broadcast_id)


def _locked(broadcasts: list[Broadcast]) -> list[Broadcast]:
    """The broadcasts re-read under a row lock, in id order (two actions at once never deadlock)."""
    ids = sorted(b.id for b in broadcasts)
    return list(Broadcast.objects.select_for_update().filter(id__in=ids).order_by("id"))


def act(action: str, broadcasts: list[Broadcast]) -> Resumed:
    """Do `action` to every broadcast, or to none (raising `ActionRefused` for the first it means nothing to).
    Runs in the caller's transaction."""
    now = timezone.now()
    locked = _locked(broadcasts)
    for broadcast in locked:
        if not _may(action, broadcast):
            raise ActionRefused(broadcast, action, state_of(broadcast))
    resumed = Resumed([], set())
    for broadcast in locked:
        if action == "pause":
            _pause(broadcast, now)
        elif action == "interrupt":
            _end(broadcast, B.INTERRUPTED, now)
            schedules.stop(broadcast.id, now)  # a repeating one repeats no more
            events.broadcast_event(broadcast.workspace_id, broadcast.id, "broadcast.interrupted")  # in this change
            status.fail_unsent(_msgs(broadcast.id), FailedReason.INTERRUPTED, now)
        else:
            _resume(broadcast, now, resumed)
    return resumed


def _pause(broadcast: Broadcast, now: datetime) -> None:
    _update(broadcast, status=B.PAUSED, paused_from=broadcast.status, modified_on=now)
    status.hold(_msgs(broadcast.id), now)


def _resume(broadcast: Broadcast, now: datetime, resumed: Resumed) -> None:
    back = B(broadcast.paused_from)
    quiet = back in Broadcast.IN_PROGRESS  # its fan-out stopped at the pause
    _update(broadcast, status=back, paused_from="", modified_on=_claimable_since(now) if quiet else now)
    status.release(_msgs(broadcast.id), now)
    if back in Broadcast.NOT_FINISHED:
        resumed.starts.append((broadcast.id, broadcast.send_at))
    waiting = _msgs(broadcast.id).filter(status__in=status.SENDABLE, channel__isnull=False)
    resumed.channel_ids.update(waiting.values_list("channel_id", flat=True).distinct())


def _claimable_since(now: datetime) -> datetime:
    """`modified_on` is the fan-out's heartbeat: a broadcast quiet for BROADCAST_STALL_SECONDS is claimed by the next
    start (fanout._claim). A fan-out stopped by a pause or an expiry is quiet by design: dated so, the start queued
    now (or the tick) claims it at once; a task of it still at work meanwhile is harmless (fanout.py)."""
    return now - timedelta(seconds=settings.BROADCAST_STALL_SECONDS + 1)


def _end(broadcast: Broadcast, end: BroadcastStatus, now: datetime) -> None:
    _update(broadcast, status=end, paused_from="", modified_on=now)


def _update(broadcast: Broadcast, **fields: object) -> None:
    Broadcast.objects.filter(id=broadcast.id).update(**fields)


def expiring(now: datetime) -> list[int]:
    """Broadcasts whose `expire_at` has passed and that have not expired yet (index `broadcasts_to_expire`)."""
    due = Broadcast.objects.filter(expire_at__lte=now, expired_on__isnull=True)
    return list(due.values_list("id", flat=True))


def expire(broadcast_id: int, now: datetime) -> bool:
    """Expire a broadcast once: fail its messages not handed over (`expired`); a paused one goes back to what it
    was, to finish. Returns whether its fan-out must go on (then it is claimable at once: `_claimable_since`)."""
    with transaction.atomic():
        locked = _locked([Broadcast(id=broadcast_id)])
        if not locked or locked[0].expired_on is not None:
            return False
        broadcast = locked[0]
        current = B(broadcast.paused_from) if broadcast.status == B.PAUSED else B(broadcast.status)
        if current in (B.FAILED, B.INTERRUPTED):  # ended otherwise: nothing left to expire
            _update(broadcast, expired_on=now)
            return False
        fanning_out = current in Broadcast.NOT_FINISHED
        _update(
            broadcast,
            status=current,
            paused_from="",
            expired_on=now,
            modified_on=_claimable_since(now) if fanning_out else now,
        )
        failed = status.fail_unsent(_msgs(broadcast_id), FailedReason.EXPIRED, now)
    logger.info("broadcast %s expired: %s messages not sent", broadcast_id, failed)
    return fanning_out


class BatchFate(NamedTuple):
    """What becomes of a fan-out batch written now: whether it is written, and whether the walk goes on."""

    written: bool
    go_on: bool


def batch_fate(current_status: str) -> BatchFate:
    """Read under the broadcast's lock (`fanout.write_batch`): a paused broadcast's batch is written (held) and the
    walk stops; an ended one's is not written; an expired one's is written (failed) and the walk goes on."""
    if current_status == B.PAUSED:
        return BatchFate(written=True, go_on=False)
    if current_status not in Broadcast.IN_PROGRESS:
        return BatchFate(written=False, go_on=False)
    return BatchFate(written=True, go_on=True)


def as_written(
    messages: list[NewMessage], current_status: str, expire_at: datetime | None, now: datetime
) -> list[NewMessage]:
    """The batch's messages as they are stored: held while paused, failed `expired` once `expire_at` has passed."""
    if expire_at is not None and expire_at <= now:
        return [_failed_expired(m) if m.status in status.AWAITING_SEND else m for m in messages]
    if current_status == B.PAUSED:
        return [m._replace(status=status.HOLDS.get(MsgStatus(m.status), m.status)) for m in messages]
    return messages


def _failed_expired(message: NewMessage) -> NewMessage:
    return message._replace(status=MsgStatus.FAILED.value, failed_reason=FailedReason.EXPIRED.value)


class Gate:
    """The pre-send gate of one delivery run: whether a message fetched into a chunk may still be sent, i.e. its
    broadcast has not been paused, interrupted or expired since.

    A broadcast is looked up when its first message comes in a chunk (`watch`, by the run's own thread, before the
    chunk goes on the wire), then by a thread of the gate's own every GATE_REFRESH_SECONDS while the run lasts, so a
    send never waits for a query and the database is asked at most that often. A broadcast found past its
    `expire_at` is expired then and there, rather than at the next tick."""

    def __init__(self) -> None:
        self._seen: set[int] = set()
        self._stopped: set[int] = set()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, chunk: list[Msg]) -> None:
        """Learn the state of the chunk's broadcasts not seen yet (one query, none when there are none)."""
        new = {msg.broadcast_id for msg in chunk if msg.broadcast_id is not None} - self._seen
        if not new:
            return
        stopped = self._ask(new)
        with self._lock:
            self._seen |= new
            self._stopped |= stopped
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="send-gate", daemon=True)
            self._thread.start()

    def admits(self, msg: Msg) -> bool:
        with self._lock:
            return msg.broadcast_id not in self._stopped

    def stop(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _watch(self) -> None:
        try:
            while not self._done.wait(GATE_REFRESH_SECONDS):
                with self._lock:
                    seen = set(self._seen)
                try:
                    stopped = self._ask(seen)
                except Exception:  # a busy database: keep what we knew, ask again next time
                    logger.exception("the send gate could not read broadcast states")
                    connection.close()
                    continue
                with self._lock:  # those seen since were asked about by `watch`
                    self._stopped = stopped | (self._stopped & (self._seen - seen))
        finally:
            connection.close()  # this thread's own

    @staticmethod
    def _ask(broadcast_ids: set[int]) -> set[int]:
        """Which of the broadcasts must send nothing more; expires those due to expire."""
        now = timezone.now()
        stopped = set()
        rows = Broadcast.objects.filter(id__in=broadcast_ids).values_list("id", "status", "expire_at", "expired_on")
        for broadcast_id, current, expire_at, expired_on in rows:
            past_expiry = expire_at is not None and expire_at <= now
            if current in (B.PAUSED, B.INTERRUPTED) or past_expiry:
                stopped.add(broadcast_id)
            if past_expiry and expired_on is None:
                expire(broadcast_id, now)  # as the tick would (which resumes the fan-out if it must go on)
        return stopped
