"""The message figures of `/metrics`, read from the database at each scrape: right whichever process or machine did
the work, and never out of step with the API.

- `herald_messages{channel, status}`: messages by channel and status (inbound ones show as `pending` / `handled`);
- `herald_messages_created_total`: every message ever written, so `rate(herald_messages_created_total[1m])` is the
  fan-out rate;
- `herald_queue_messages{channel}`: messages due to be handed over now (queued, or errored with their retry due).

Two grouped counts, each over the `msgs_outbox` index (it leads with channel and status, and inbound and outgoing
messages have statuses of their own, so no other column is needed): the cost of a scrape grows with the messages
table, an index walk, not a table read.
"""

from collections.abc import Iterator

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from herald.channels.models import Channel

from .models import Msg, MsgStatus

STATUS_NAMES = {status.value: status.label for status in MsgStatus}
NO_CHANNEL = "none"


class MessagesCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        channels = dict(Channel.objects.values_list("id", "uuid"))

        def channel_label(channel_id: int | None) -> str:
            return str(channels[channel_id]) if channel_id in channels else NO_CHANNEL

        by_status = GaugeMetricFamily("herald_messages", "Messages by channel and status", labels=["channel", "status"])
        total = 0
        rows = Msg.objects.order_by().values_list("channel_id", "status").annotate(n=Count("id"))
        for channel_id, status, count in rows:
            by_status.add_metric([channel_label(channel_id), STATUS_NAMES.get(status, status)], count)
            total += count
        yield by_status
        yield CounterMetricFamily("herald_messages_created", "Messages written, inbound and outgoing", value=total)

        due = GaugeMetricFamily("herald_queue_messages", "Messages due to be handed over now", labels=["channel"])
        due_rows = Msg.objects.due(timezone.now()).order_by().values_list("channel_id").annotate(n=Count("id"))
        counts = {channel_id: 0 for channel_id in channels} | dict(due_rows)  # every channel, 0 when none is due
        for channel_id, count in counts.items():
            due.add_metric([channel_label(channel_id)], count)
        yield due
