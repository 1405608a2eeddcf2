"""Prometheus metrics observed where channels hand messages over (the delivery pool's processes). With HERALD_METRICS
on, every Herald process writes them to files in the data dir, which `/metrics` adds up (prometheus_client's
multiprocess mode, see settings.METRICS_DIR); off, they only count in memory and nobody reads them."""

from prometheus_client import Histogram

# Seconds from a type's `send` starting to its outcome, by channel and outcome (`wired`: handed over; `error`: a
# transient or permanent error). Buckets from a local gateway (a few ms) to the send timeout (30 s by default).
HANDOVER_SECONDS = Histogram(
    "herald_handover_seconds",
    "Time a hand-over attempt to a channel's gateway took, from the request to its outcome",
    ["channel", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)


def observe_handover(channel_uuid: str, seconds: float, failed: bool) -> None:
    HANDOVER_SECONDS.labels(channel=channel_uuid, outcome="error" if failed else "wired").observe(seconds)
