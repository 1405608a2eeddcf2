"""A send window on a real installation (`herald worker` and `herald web` processes, the tick as it runs): a
broadcast made while its window is closed is fanned out but sends nothing; it goes out when the window opens, at
the channel's pace; when the window closes mid-send the hand-overs stop (within about a second: the check right
before each hand-over, msgs/windows.py) and what is left waits for the next opening, which broadcasts.json names.

On the embedded default, or on PostgreSQL + Redis when the environment names them (see `live.py`).
"""

import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from herald.api.v2.formats import format_datetime
from herald.msgs.models import MsgStatus
from herald.testing.windows import window_from_now

from .live import Installation, Watch

pytestmark = pytest.mark.slow

# On PostgreSQL + Redis: the Redis database the environment names rather than live.py's shared one, so that runs
# of other suites on this machine are left alone.
SETTINGS = (
    {"HERALD_BROKER_URL": os.environ["HERALD_BROKER_URL"]}
    if os.environ.get("HERALD_BROKER_URL", "").startswith("redis")
    else {}
)
RECIPIENTS = 40
TPS = 5
OPENS_IN, LASTS = 5, 4  # seconds: about LASTS * TPS messages go before it closes


def api_get(herald: Installation, path: str) -> dict:
    response = httpx.get(herald.base_url + path, headers={"Authorization": f"Token {herald.token}"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


def test_a_window_holds_the_broadcast_until_it_opens_and_stops_it_when_it_closes(herald, gateway):
    setup = herald.provision(gateway.url, contacts=RECIPIENTS, tps=TPS)
    herald.start("worker")
    herald.start("web")

    window, opens_at = window_from_now(OPENS_IN, LASTS)
    closes_at = opens_at + timedelta(seconds=LASTS)
    response = herald.api_post(
        "/api/v2/broadcasts.json", {"text": "Hi", "groups": [setup["group"]], "send_window": window}
    )
    assert response.status_code == 201, response.text
    assert (response.json()["send_window"], response.json()["waiting_until"]) == (window, format_datetime(opens_at))
    watch = Watch(herald, response.json()["id"])

    # Closed: every message is made, and waits for the opening; nothing goes.
    watch.wait_until(lambda: watch.broadcast.msg_count == RECIPIENTS, "the broadcast fanned out", timeout=60)
    assert set(watch.msgs.values_list("status", "next_attempt")) == {(MsgStatus.QUEUED, opens_at)}
    while datetime.now(UTC) < opens_at - timedelta(seconds=0.2):
        assert not gateway.requests, "handed over before its window opened"
        time.sleep(0.05)

    # Open: it goes out at the channel's pace ...
    watch.wait_until(lambda: gateway.requests, "the first hand-over once the window opened", timeout=30)
    listed_url = f"/api/v2/broadcasts.json?uuid={response.json()['uuid']}"
    assert api_get(herald, listed_url)["results"][0]["waiting_until"] is None

    # ... until it closes: then the hand-overs stop within about a second, and nothing more goes.
    sleep_until(closes_at + timedelta(seconds=1))
    sent_by_then = len(gateway.requests)
    time.sleep(3)
    assert len(gateway.requests) == sent_by_then
    assert 0 < sent_by_then < RECIPIENTS

    # What is left waits for the next opening (Kigali has no daylight saving: the same time tomorrow) and says so.
    next_opening = opens_at + timedelta(days=1)
    seen = Counter(request.json["id"] for request in list(gateway.requests))
    wired = {str(uuid) for uuid in watch.msgs.filter(status=MsgStatus.WIRED).values_list("uuid", flat=True)}
    assert set(seen) == wired
    assert set(seen.values()) == {1}
    watch.wait_until(
        lambda: (
            set(watch.msgs.exclude(status=MsgStatus.WIRED).values_list("status", "next_attempt"))
            == {(MsgStatus.QUEUED, next_opening)}
        ),
        "every message not handed over waiting for the next opening",
        timeout=30,
    )
    listed = api_get(herald, listed_url)["results"][0]
    assert (listed["status"], listed["waiting_until"]) == ("completed", format_datetime(next_opening))
