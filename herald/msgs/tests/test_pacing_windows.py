"""The pace's promise on its own clock (docs/COMPATIBILITY.md, C57, C58): whatever the messages' costs and caps, and
however often the pace is handed to a new task, the planned starts hold every one-second window to the channel's
`tps` and each capped broadcast's messages to its cap; a message costing more than the limit goes alone in its
window. `herald/msgs/tests/test_pacing.py` shows the same through real sends to a gateway."""

from hypothesis import given, settings
from hypothesis import strategies as st

from herald.msgs.pacing import WINDOW, Budget, ChunkPlan, Pace

EPOCH = 1_800_000_000.0  # the wall clock a hand-over travels in, far from the monotonic one
TOLERANCE = 1e-6  # a hand-over rounds times to 0.1 ms, merging only later, so only stricter: float noise aside


def windows_hold(starts: list[tuple[float, int]], limit: int) -> bool:
    """Every window [t, t + 1) that starts at a send holds at most `limit`, or just one send."""
    for at, _ in starts:
        inside = [cost for other, cost in starts if at - TOLERANCE <= other < at + WINDOW - TOLERANCE]
        if sum(inside) > limit and len(inside) > 1:
            return False
    return True


def clock(now: float):
    return lambda: now


message = st.tuples(st.integers(1, 9), st.sampled_from([None, 1, 2]))  # (cost, broadcast: none, 1 or 2)


@settings(max_examples=150, deadline=None)
@given(
    tps=st.integers(1, 12) | st.integers(150, 400),
    caps=st.tuples(st.integers(1, 6), st.none() | st.integers(1, 6)),
    messages=st.lists(message, min_size=1, max_size=60),
    hand_over_every=st.integers(1, 5),
    gaps=st.lists(st.floats(0, 1.5), min_size=1, max_size=5),
    unlimited=st.booleans(),
)
def test_no_window_holds_more_than_the_limits(tps, caps, messages, hand_over_every, gaps, unlimited):
    channel_tps = None if unlimited else tps
    pace = Pace.for_channel(channel_tps)
    pace.caps.update({1: caps[0], 2: caps[1]})
    now, chunks, planned = 0.0, 0, []  # planned: (start, cost, broadcast)
    queue = list(messages)
    while queue:
        plan: ChunkPlan[int] = ChunkPlan(pace, clock(now), WINDOW if channel_tps else 0.0, channel_tps or 100)
        for index, (cost, broadcast) in enumerate(queue):
            plan.offer(index, cost, broadcast)
        chosen = plan.choose()
        if not chosen:
            assert plan.blocked_until is not None
            assert plan.blocked_until > now
            now = plan.blocked_until
            continue
        assert plan.starts == sorted(plan.starts)
        assert plan.starts[0] >= now
        planned += [(at, queue[i][0], queue[i][1]) for i, at in zip(chosen, plan.starts, strict=True)]
        queue = [m for i, m in enumerate(queue) if i not in set(chosen)]
        # The next chunk a second after this one began (or once the last send has started), sometimes later still.
        now = max(now + WINDOW if channel_tps else now, max(plan.starts)) + gaps[chunks % len(gaps)]
        chunks += 1
        if chunks % hand_over_every == 0:  # a new task, in another process with its own monotonic clock
            handed = pace.handed_on(now, EPOCH + now)
            offset = 1000.0
            pace = Pace.taken_over(channel_tps, handed, now + offset, EPOCH + now)
            pace.caps.update({1: caps[0], 2: caps[1]})
            planned = [(at + offset, cost, b) for at, cost, b in planned]
            now += offset

    if channel_tps:
        assert windows_hold([(at, cost) for at, cost, _ in planned], channel_tps)
    for broadcast, cap in ((1, caps[0]), (2, caps[1])):
        if cap is not None:
            assert windows_hold([(at, cost) for at, cost, b in planned if b == broadcast], cap)


def test_a_send_of_cost_c_keeps_the_next_c_over_the_limit_behind_it():
    budget = Budget(6)
    assert budget.earliest(3, now=10.0) == 10.0
    budget.record(10.0, 3)
    assert budget.earliest(3, now=10.0) == 10.5
    budget.record(10.5, 3)
    assert budget.earliest(1, now=10.5) == 11.0  # the window (10, 11) is full
    budget.record(11.0, 1)
    # A 7-part message waits until nothing was sent in its last second, then holds the next 7/6 s behind it.
    assert budget.earliest(7, now=11.0) == 12.0
    budget.record(12.0, 7)
    assert budget.earliest(1, now=12.0) == 12.0 + 7 / 6


def test_mixed_costs_wait_for_the_window_where_even_spacing_alone_would_not():
    budget = Budget(6)
    starts = []
    for cost in (1, 3, 1, 3):
        at = budget.earliest(cost, now=0.0)
        budget.record(at, cost)
        starts.append(at)
    # Spaced by cost alone the fourth would start at 5/6 s, putting 8 segments in the first second.
    assert starts[:3] == [0.0, 1 / 6, 4 / 6]
    assert starts[3] == 1 / 6 + WINDOW


def test_a_hand_over_from_another_version_or_an_old_tps_starts_afresh():
    assert Pace.taken_over(6, {"channel": "nonsense"}, 0.0, EPOCH).channel.earliest(6, 0.0) == 0.0
    handed = Pace.for_channel(6)
    handed.channel.record(0.0, 6)
    state = handed.handed_on(0.1, EPOCH)
    assert Pace.taken_over(6, state, 50.1, EPOCH).channel.earliest(1, 50.1) == 51.0  # the same instants, here
    assert Pace.taken_over(8, state, 50.1, EPOCH).channel.earliest(1, 50.1) == 50.1  # tps changed: its own count
