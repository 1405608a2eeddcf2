"""A broadcast's progress as the pages draw it: the bar of its messages by status, whether it is still moving (so
the page keeps polling), and the chart of its statuses over time, from `ProgressSample`s.

The counts are the API's (`broadcast_counts.counts_of`, read from the trigger-kept rows of herald/msgs/counts.py): a
page never counts messages. Samples are taken every settings.WEB_PROGRESS_SAMPLE_SECONDS by `take_samples` (a
periodic task, herald/web/tasks.py) for the broadcasts still sending, and for those that finished in the last
SAMPLED_AFTER_FINISH (delivery reports keep coming); a sample is written only when the counts changed.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from herald.api.v2.endpoints.broadcast_counts import STATUSES, attach_counts, counts_of
from herald.msgs.models import Broadcast, BroadcastStatus

from .models import ProgressSample

B = BroadcastStatus
SAMPLED_AFTER_FINISH = timedelta(hours=1)
# The most broadcasts one sampling looks at (the newest first): bounded however many are busy.
SAMPLE_LIMIT = 200
# How the bar and the chart group the API's statuses: (css class / label, the statuses it adds up).
GROUPS = (
    ("delivered", ("delivered", "read")),
    ("sent", ("wired", "sent")),
    ("errored", ("errored",)),
    ("failed", ("failed",)),
    ("queued", ("queued",)),
)
# What still moves: a broadcast not finished, or finished with messages still to hand over.
WAITING = ("queued", "errored")


def status_counts(broadcast: Broadcast) -> dict[str, int]:
    """The broadcast's messages by status name (messages.json's names); it needs `msg_counts` (`attach_counts`)."""
    counts = counts_of(broadcast)
    return {name: counts[name] for name in STATUSES}


def grouped(counts: dict[str, int]) -> dict[str, int]:
    return {group: sum(counts.get(name, 0) for name in names) for group, names in GROUPS}


def is_moving(broadcast: Broadcast, counts: dict[str, int]) -> bool:
    """Whether its page should keep asking for news: fanning out, or messages still waiting for a channel (not while
    paused, scheduled for later, or ended)."""
    if broadcast.status == B.PENDING and broadcast.send_at is not None and broadcast.send_at > timezone.now():
        return False
    if broadcast.status in Broadcast.NOT_FINISHED:
        return True
    return broadcast.status == B.COMPLETED and any(counts.get(name, 0) for name in WAITING)


@dataclass(frozen=True)
class Segment:
    group: str
    count: int
    x: float  # percent of the bar's width where it begins
    width: float  # percent


@dataclass(frozen=True)
class Bar:
    segments: list[Segment]
    total: int  # recipients (once counted), else messages so far
    done: int  # messages no longer waiting: handed over or failed

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


def bar(broadcast: Broadcast, counts: dict[str, int]) -> Bar:
    groups = grouped(counts)
    made = sum(groups.values())
    total = max(broadcast.contact_count or 0, made)
    segments, x = [], 0.0
    for group, _ in GROUPS:
        count = groups[group]
        if count and total:
            width = 100 * count / total
            segments.append(Segment(group, count, round(x, 3), round(width, 3)))
            x += width
    done = groups["delivered"] + groups["sent"] + groups["failed"]
    return Bar(segments, total, done)


def take_samples(now: datetime | None = None) -> int:
    """Record the counts of the broadcasts that are sending (or just finished) where they moved; how many were
    recorded. Three queries, plus one per broadcast looked at (its last sample)."""
    now = now or timezone.now()
    busy = Q(status__in=[*Broadcast.NOT_FINISHED, B.PAUSED]) | Q(
        status__in=Broadcast.FINISHED, modified_on__gte=now - SAMPLED_AFTER_FINISH
    )
    broadcasts = list(
        Broadcast.objects.filter(busy, msg_count__gt=0).only("id", "exclusions").order_by("-id")[:SAMPLE_LIMIT]
    )
    attach_counts(broadcasts)
    new = []
    for broadcast in broadcasts:
        counts = status_counts(broadcast)
        last = ProgressSample.objects.filter(broadcast_id=broadcast.id).order_by("-taken_on").first()
        if last is None or last.counts != counts:
            new.append(ProgressSample(broadcast_id=broadcast.id, taken_on=now, counts=counts))
    ProgressSample.objects.bulk_create(new)
    return len(new)


# The chart's drawing box (SVG user units); the page scales it to its width.
WIDTH, HEIGHT = 600.0, 180.0
# The most points a line gets: samples beyond are thinned evenly (the first and last kept).
MAX_POINTS = 300


@dataclass(frozen=True)
class Chart:
    lines: dict[str, str]  # group -> SVG polyline points "x,y x,y ..."
    started: datetime
    ended: datetime
    top: int  # the count at the top of the box


def chart(broadcast: Broadcast, counts_now: dict[str, int]) -> Chart | None:
    """The broadcast's statuses over time: its samples (one indexed query), ending with the counts read now. None
    before there are two points to draw."""
    samples = list(
        ProgressSample.objects.filter(broadcast_id=broadcast.id).order_by("taken_on").values_list("taken_on", "counts")
    )
    points = [(at, grouped(counts)) for at, counts in _thinned(samples)]
    points.append((timezone.now(), grouped(counts_now)))
    if len(points) < 2:
        return None
    started, ended = points[0][0], points[-1][0]
    span = max((ended - started).total_seconds(), 1.0)
    top = max(1, *(max(groups.values()) for _, groups in points))
    lines = {}
    for group, _ in GROUPS:
        if any(groups[group] for _, groups in points):
            lines[group] = " ".join(
                f"{WIDTH * (at - started).total_seconds() / span:.1f},{HEIGHT - HEIGHT * groups[group] / top:.1f}"
                for at, groups in points
            )
    return Chart(lines, started, ended, top)


def _thinned(samples: list) -> list:
    if len(samples) <= MAX_POINTS:
        return samples
    step = len(samples) / (MAX_POINTS - 1)
    return [samples[int(i * step)] for i in range(MAX_POINTS - 1)] + [samples[-1]]
