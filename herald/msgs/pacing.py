"""A channel's send pace: when each message may be handed over so that no one-second window holds more than the
channel's `tps`, nor more than a broadcast's `max_per_second` of that broadcast's messages.

What a message costs is what carriers count: its SMS segments for a `tel` URN, 1 for anything else (`Msg.msg_count`,
set by the composer). Each limit is a `Budget`: sends are spread evenly (a send of cost c keeps the next one
c / limit seconds behind it, as today's even spacing did for cost 1), and a send may start at `t` only if the sends
that started in (t - 1, t] cost, with it, at most the limit. Evenly spaced sends of one cost never meet the window's
bound before their spacing; mixed costs (a 1-part message then 3-part ones) can, and the window holds them back.

A message that costs more than the limit on its own (a 7-part message on a tps=6 channel) still goes: it waits until
nothing else was sent in the last second, goes alone in its second, and counts in full for the spacing, so the
channel's next send waits cost / limit seconds (7/6 s) behind it. A window that holds it holds more than the limit:
the one exception, and the carrier sees the same from courier.

Times are `time.monotonic()` seconds, given by the caller (nothing here reads a clock itself). A `Pace` hands the
state on to the next delivery task, which may run in another process or on another machine: there the times travel
as wall-clock (epoch) seconds, so machines' clocks must agree to within a fraction of a second (NTP does).
"""

import math
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

# One second: the window every limit is counted in.
WINDOW = 1.0
# A hand-over merges sends within 10 ms of each other into one, at the latest of their times (only later, so only
# stricter): a 5,000/s channel's hand-over carries at most about 100 sends a budget.
MERGE_WITHIN = 0.01


class Budget:
    """One limit's recent sends: when the next send of a given cost may start, and its record once it is planned."""

    def __init__(self, limit: int, free_at: float = float("-inf"), sends: list[tuple[float, int]] | None = None):
        self.limit = limit
        self.free_at = free_at  # the spacing: the next send starts no earlier
        self._times: list[float] = []
        self._cumulative: list[int] = []  # the cost of every send up to and including this one
        self._first = 0  # sends before this index are out of every window still to come
        for at, cost in sends or ():
            self._append(at, cost)

    def earliest(self, cost: int, now: float) -> float:
        """The earliest start, at `now` or later, for a send of `cost`."""
        self._forget_before(now - WINDOW)
        start = max(now, self.free_at)
        counted = min(cost, self.limit)  # more than the limit alone: it goes once the window is empty
        total = self._cumulative[-1] if self._times else 0
        in_window = total - self._cost_before(bisect_right(self._times, start - WINDOW, lo=self._first))
        if in_window + counted <= self.limit:
            return start
        # The window must first lose its oldest sends, up to the one after which what remains leaves room.
        last_out = bisect_left(self._cumulative, total - (self.limit - counted), lo=self._first)
        return max(start, self._times[last_out] + WINDOW)

    def record(self, at: float, cost: int) -> None:
        """A send of `cost` planned at `at` (no earlier than `earliest` said, so times only grow)."""
        self._append(at, cost)
        self.free_at = max(self.free_at, at + cost / self.limit)

    def is_idle(self, now: float) -> bool:
        """Whether it no longer holds anything back."""
        return self.free_at <= now and (not self._times or self._times[-1] <= now - WINDOW)

    def recent(self, now: float) -> list[tuple[float, int]]:
        """The sends still in a window at `now` or later, merged as `MERGE_WITHIN` says."""
        self._forget_before(now - WINDOW)
        merged: list[tuple[float, int]] = []
        for index in range(self._first, len(self._times)):
            at, cost = self._times[index], self._cumulative[index] - self._cost_before(index)
            if merged and at - merged[-1][0] <= MERGE_WITHIN:
                merged[-1] = (at, merged[-1][1] + cost)
            else:
                merged.append((at, cost))
        return merged

    def _append(self, at: float, cost: int) -> None:
        self._times.append(at)
        self._cumulative.append((self._cumulative[-1] if self._cumulative else 0) + cost)

    def _cost_before(self, index: int) -> int:
        return self._cumulative[index - 1] if index > 0 else 0

    def _forget_before(self, moment: float) -> None:
        self._first = bisect_right(self._times, moment, lo=self._first)
        if self._first > 1024 and self._first * 2 > len(self._times):  # drop the forgotten, now and then
            base = self._cumulative[self._first - 1]
            self._times = self._times[self._first :]
            self._cumulative = [cost - base for cost in self._cumulative[self._first :]]
            self._first = 0


# A budget as it travels in a hand-over: [limit, free_at or None, [[at, cost], ...]], times in epoch seconds.
BudgetState = list[object]


@dataclass
class Pace:
    """A channel's budget (None: the channel has no `tps`), those of the capped broadcasts it sent for lately, and
    the caps it has looked up (`caps`: broadcast id -> `max_per_second` or None; broadcasts never change)."""

    channel: Budget | None
    broadcasts: dict[int, Budget] = field(default_factory=dict)
    caps: dict[int, int | None] = field(default_factory=dict)

    @classmethod
    def for_channel(cls, tps: int | None) -> "Pace":
        return cls(Budget(tps) if tps else None)

    def earliest(self, cost: int, broadcast_id: int | None, now: float) -> float:
        """When a message of `cost` (of that broadcast, if any) may start, by every budget it counts in."""
        start = self.channel.earliest(cost, now) if self.channel else now
        budget = self._broadcast_budget(broadcast_id)
        return max(start, budget.earliest(cost, now)) if budget else start

    def record(self, at: float, cost: int, broadcast_id: int | None) -> None:
        if self.channel:
            self.channel.record(at, cost)
        budget = self._broadcast_budget(broadcast_id)
        if budget:
            budget.record(at, cost)

    def cap(self, broadcast_id: int | None) -> int | None:
        return self.caps.get(broadcast_id) if broadcast_id is not None else None

    def _broadcast_budget(self, broadcast_id: int | None) -> Budget | None:
        cap = self.cap(broadcast_id)
        if broadcast_id is None or cap is None:
            return None
        if broadcast_id not in self.broadcasts:
            self.broadcasts[broadcast_id] = Budget(cap)
        return self.broadcasts[broadcast_id]

    def handed_on(self, now: float, wall_now: float) -> dict[str, object]:
        """The state for the next task (JSON: it travels in the task's arguments), times as epoch seconds."""

        def wall(at: float) -> float:  # to 0.1 ms, rounded up: later, so only stricter
            return math.ceil((at - now + wall_now) * 10_000) / 10_000

        def state(budget: Budget) -> BudgetState:
            free_at = wall(budget.free_at) if budget.free_at > now else None
            return [budget.limit, free_at, [[wall(at), cost] for at, cost in budget.recent(now)]]

        return {
            "channel": state(self.channel) if self.channel else None,
            "broadcasts": [[bid, *state(b)] for bid, b in self.broadcasts.items() if not b.is_idle(now)],
        }

    @classmethod
    def taken_over(cls, tps: int | None, handed: object, now: float, wall_now: float) -> "Pace":
        """The pace a task handed on (`handed_on`), in this process's clock. A channel whose `tps` changed since
        starts afresh; what is not the expected shape is ignored (a task queued by another version)."""
        pace = cls.for_channel(tps)
        if not isinstance(handed, dict):
            return pace
        to_local = now - wall_now
        try:
            channel = handed.get("channel")
            if tps and isinstance(channel, list) and channel[0] == tps:
                pace.channel = _budget(channel, to_local)
            for broadcast_id, *state in handed.get("broadcasts") or []:
                pace.broadcasts[int(broadcast_id)] = _budget(state, to_local)
                pace.caps[int(broadcast_id)] = int(state[0])
        except (TypeError, ValueError):
            return cls.for_channel(tps)
        return pace


def _budget(state: list[object], to_local: float) -> Budget:
    """A budget from its `BudgetState` (JSON); TypeError or ValueError if it is not one."""
    limit, free_at, sends = state
    if not isinstance(limit, int) or limit < 1 or not isinstance(sends, list):
        raise ValueError("not a budget")
    if free_at is not None and not isinstance(free_at, int | float):
        raise ValueError("not a budget")
    return Budget(
        limit,
        free_at + to_local if free_at is not None else float("-inf"),
        [(float(at) + to_local, int(cost)) for at, cost in sends],
    )


Item = TypeVar("Item")


class ChunkPlan(Generic[Item]):
    """Which of the due messages go in the next chunk, and when each starts.

    Offered the due messages in the chunk's order (`offer`), it keeps as candidates at most a chunk's worth: `size`
    (the channel's `tps` in cost, else a number of messages), and of a capped broadcast no more than its cap; a
    broadcast it had to leave out is `capped_out` (the next query skips it). `choose` then plans the candidates send
    by send: the next is whichever can start soonest, so a capped broadcast waiting for its budget holds nobody else
    up, and messages of one broadcast (or sent on their own) keep their order. A message is in the chunk if it starts
    within `span` (a limited channel's chunk is one second), the chunk's first one also if it starts within a second
    (the send waits for it); if none does, `blocked_until` says when one could.
    """

    def __init__(self, pace: Pace, clock: Callable[[], float], span: float, size: int):
        self.pace, self.clock, self.span, self.size = pace, clock, span, size
        self.capped_out: set[int] = set()
        self.starts: list[float] = []
        self.blocked_until: float | None = None
        self._candidates: list[tuple[Item, int, int | None]] = []
        self._offered = 0
        self._capped_cost: dict[int, int] = {}

    @property
    def full(self) -> bool:
        return self._offered >= self.size

    def offer(self, item: Item, cost: int, broadcast_id: int | None) -> None:
        cost = max(1, cost)
        cap = self.pace.cap(broadcast_id)
        if broadcast_id is not None and cap is not None:
            if broadcast_id in self.capped_out or self._capped_cost.get(broadcast_id, 0) >= cap:
                self.capped_out.add(broadcast_id)
                return
            self._capped_cost[broadcast_id] = self._capped_cost.get(broadcast_id, 0) + cost
        self._offered += cost if self.pace.channel else 1
        self._candidates.append((item, cost, broadcast_id))

    def choose(self) -> list[Item]:
        """The chunk, in the order its sends start (`starts`, the same order); recorded in the pace."""
        now = self.clock()
        horizon = now + self.span
        queues: dict[int | None, deque[tuple[Item, int, int | None]]] = {}
        for candidate in self._candidates:
            key = candidate[2] if self.pace.cap(candidate[2]) is not None else None
            queues.setdefault(key, deque()).append(candidate)
        chosen: list[Item] = []
        while queues:
            start, index = min(
                (self.pace.earliest(queue[0][1], queue[0][2], now), index)
                for index, queue in enumerate(queues.values())
            )
            key = list(queues)[index]
            fits = start < horizon if self.span else start <= now
            if not (fits or (not chosen and start < now + WINDOW)):
                if not chosen:
                    self.blocked_until = start
                break
            item, cost, broadcast_id = queues[key].popleft()
            if not queues[key]:
                del queues[key]
            self.pace.record(start, cost, broadcast_id)
            chosen.append(item)
            self.starts.append(start)
        return chosen
