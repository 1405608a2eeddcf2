"""Send windows through the API (docs/COMPATIBILITY.md, C50-C52): a broadcast or a single message made while its
window is closed waits, says until when, and goes out when it opens; the workspace's default is copied onto each
broadcast, a broadcast may override it (or have none), a single message may opt out; bad windows are a 400 that
writes nothing.

Tasks run eagerly on a database that really commits, and the gateway is a real one on 127.0.0.1; the tick is the
real task, run here when the test needs it. A window closing mid-send on a live worker: test_send_window_live.py.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from herald.api.v2.formats import format_datetime
from herald.msgs import tasks
from herald.msgs.models import Broadcast, Msg, MsgStatus
from herald.testing.factories import make_contact
from herald.testing.gateway import gateway_channel
from herald.testing.windows import EVERY_DAY, window_from_now

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

URL = "/api/v2/broadcasts.json"
URNS = ["tel:+250788111111", "tel:+250788222222"]


@pytest.fixture
def sms(workspace, gateway):
    return gateway_channel(workspace, gateway.url)


def post(client, body, url=URL):
    return client.post(url, body, content_type="application/json")


def listed(client, uuid: str) -> dict:
    (item,) = client.get(URL, {"uuid": uuid}).json()["results"]
    return item


def set_workspace_window(workspace, window: dict | None) -> None:
    """Through the command an administrator uses."""
    compact = "none" if window is None else f"mon-sun {window['start']}-{window['end']} {window['timezone']}"
    call_command("workspace", "update", "--workspace", str(workspace.uuid), "--send-window", compact)


def wait_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


def test_a_broadcast_made_while_its_window_is_closed_sends_nothing_and_says_until_when(admin, sms, gateway):
    window, opens_at = window_from_now(3600, 3600)
    response = post(admin, {"urns": URNS, "text": "Hi", "send_window": window})
    assert response.status_code == 201, response.content
    answer = response.json()
    assert (answer["send_window"], answer["waiting_until"]) == (window, format_datetime(opens_at))
    names = list(answer)
    assert names.index("id") < names.index("send_at") < names.index("send_window") < names.index("waiting_until")
    waiting = {**answer["counts"], "queued": 2}  # made, held for the opening (C70)
    expected = {**answer, "status": "completed", "progress": {"total": 2, "started": 2}, "counts": waiting}
    assert listed(admin, answer["uuid"]) == expected
    # Every message is made, and waits for the opening.
    assert sorted(Msg.objects.values_list("status", "next_attempt")) == [(MsgStatus.QUEUED, opens_at)] * 2
    tasks.tick.delay()
    assert gateway.requests == []


def test_it_goes_out_when_its_window_opens(admin, sms, gateway):
    window, opens_at = window_from_now(2, 3600)
    uuid = post(admin, {"urns": URNS, "text": "Hi", "send_window": window}).json()["uuid"]
    tasks.tick.delay()  # before the opening, the tick sends nothing
    assert gateway.requests == []
    assert listed(admin, uuid)["waiting_until"] == format_datetime(opens_at)

    wait_until(opens_at)
    tasks.tick.delay()
    assert sorted(r.json["to"] for r in gateway.requests) == ["+250788111111", "+250788222222"]
    assert set(Msg.objects.values_list("status", "next_attempt")) == {(MsgStatus.WIRED, None)}
    assert listed(admin, uuid)["waiting_until"] is None


def test_the_workspaces_window_is_copied_onto_a_broadcast_when_it_is_made(admin, workspace, sms, gateway):
    window, opens_at = window_from_now(3600, 3600)
    set_workspace_window(workspace, window)
    uuid = post(admin, {"urns": URNS, "text": "Hi"}).json()["uuid"]
    assert listed(admin, uuid)["send_window"] == window
    assert gateway.requests == []

    # A later change of the workspace's window doesn't move a broadcast already made.
    set_workspace_window(workspace, None)
    tasks.tick.delay()
    assert gateway.requests == []
    assert (listed(admin, uuid)["send_window"], listed(admin, uuid)["waiting_until"]) == (
        window,
        format_datetime(opens_at),
    )
    # ... and the next broadcast has none.
    response = post(admin, {"urns": ["tel:+250788333333"], "text": "Now"})
    assert (response.json()["send_window"], response.json()["waiting_until"]) == (None, None)
    assert [r.json["to"] for r in gateway.requests] == ["+250788333333"]


def test_the_workspace_window_takes_the_workspace_zone_unless_it_names_one(admin, workspace, sms):
    workspace.timezone = "America/New_York"
    workspace.save()
    call_command("workspace", "update", "--workspace", str(workspace.uuid), "--send-window", "mon-fri 09:00-17:00")
    answer = post(admin, {"urns": URNS, "text": "Hi"}).json()
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    assert answer["send_window"] == {"days": weekdays, "start": "09:00", "end": "17:00", "timezone": "America/New_York"}
    # A broadcast's own window without a zone is in the workspace's too.
    body = {"urns": URNS, "text": "Hi", "send_window": {"days": ["sat"], "start": "10:00", "end": "12:00"}}
    answer = post(admin, body).json()
    assert answer["send_window"] == {"days": ["sat"], "start": "10:00", "end": "12:00", "timezone": "America/New_York"}


@pytest.mark.parametrize("override", ["none", "open"])
def test_a_broadcast_may_override_the_workspaces_window_or_have_none(admin, workspace, sms, gateway, override):
    closed, _ = window_from_now(3600, 3600)
    set_workspace_window(workspace, closed)
    window = None if override == "none" else window_from_now(-60, 3600)[0]  # opened a minute ago
    response = post(admin, {"urns": URNS, "text": "Hi", "send_window": window})
    assert response.status_code == 201, response.content
    assert (response.json()["send_window"], response.json()["waiting_until"]) == (window, None)
    assert len(gateway.requests) == 2


def test_a_single_message_follows_the_workspaces_window_unless_it_opts_out(admin, workspace, sms, gateway):
    joe = make_contact(workspace, "Joe", ["tel:+250788123123"])
    window, opens_at = window_from_now(3600, 3600)
    set_workspace_window(workspace, window)

    response = post(admin, {"contact": str(joe.uuid), "text": "Later"}, "/api/v2/messages.json")
    assert (response.status_code, response.json()["status"]) == (201, "queued")
    assert Msg.objects.get(uuid=response.json()["uuid"]).next_attempt == opens_at
    tasks.tick.delay()
    assert gateway.requests == []

    body = {"contact": str(joe.uuid), "text": "Your code is 1234", "ignore_send_window": True}
    response = post(admin, body, "/api/v2/messages.json")
    assert response.status_code == 201, response.content
    assert [r.json["text"] for r in gateway.requests] == ["Your code is 1234"]
    assert Msg.objects.get(uuid=response.json()["uuid"]).status == MsgStatus.WIRED


def test_a_dry_run_says_when_the_send_would_begin_to_go_out(admin, sms, gateway):
    closed, opens_at = window_from_now(3600, 3600)
    plan = post(admin, {"urns": URNS, "text": "Hi", "send_window": closed, "dry_run": True}).json()
    assert (plan["sendable"], plan["waiting_until"]) == (2, format_datetime(opens_at))
    plan = post(admin, {"urns": URNS, "text": "Hi", "send_window": None, "dry_run": True}).json()
    assert plan["waiting_until"] is None
    # A scheduled one: from its send_at on (here the window is open then).
    send_at = opens_at + timedelta(minutes=5)
    body = {"urns": URNS, "text": "Hi", "send_window": closed, "send_at": send_at.isoformat(), "dry_run": True}
    assert post(admin, body).json()["waiting_until"] is None
    assert (Broadcast.objects.count(), Msg.objects.count(), gateway.requests) == (0, 0, [])


def window(**changes) -> dict:
    return {"days": ["mon"], "start": "08:00", "end": "20:00", **changes}


DAYS = "mon, tue, wed, thu, fri, sat, sun"
A_TIME = "Must be a time of day as HH:MM or HH:MM:SS, 24-hour, e.g. 08:00"


@pytest.mark.parametrize(
    ("send_window", "part", "message"),
    [
        ("mon 08:00-20:00", None, 'Must be an object such as {"days": ["mon"], "start": "08:00", "end": "20:00"}.'),
        ({"start": "08:00", "end": "20:00"}, "days", "This field is required."),
        (window(days=[]), "days", f"Must be a non-empty list of day names: {DAYS}."),
        (window(days=["mon", "funday"]), "days", f"Unknown day 'funday': use {DAYS}."),
        (window(start="8am"), "start", f"{A_TIME}."),
        (window(end="25:00"), "end", f"{A_TIME} (or 24:00, the end of the day)."),
        (window(end="08:00"), "end", "Must differ from start: a window from 08:00 to 08:00 never opens."),
        (
            window(timezone="Mars/Olympus_Mons"),
            "timezone",
            "Unknown timezone 'Mars/Olympus_Mons': use an IANA zone name such as Africa/Kigali or UTC.",
        ),
        (window(zone="UTC"), "zone", "Unknown field: a send window has only days, start, end, timezone."),
    ],
)
def test_a_window_that_cant_be_used_is_a_400_naming_what_is_wrong_and_nothing_is_written(
    admin, sms, gateway, send_window, part, message
):
    error = {"send_window": {part: [message]} if part else [message]}
    for dry_run in (False, True):
        response = post(admin, {"urns": URNS, "text": "Hi", "send_window": send_window, "dry_run": dry_run})
        assert (response.status_code, response.json()) == (400, error)
    assert (Broadcast.objects.count(), Msg.objects.count(), gateway.requests) == (0, 0, [])


def test_ignore_send_window_must_be_a_boolean(admin, workspace, sms, gateway):
    joe = make_contact(workspace, "Joe", ["tel:+250788123123"])
    body = {"contact": str(joe.uuid), "text": "Hi", "ignore_send_window": "perhaps"}
    response = post(admin, body, "/api/v2/messages.json")
    assert (response.status_code, response.json()) == (400, {"ignore_send_window": ["Must be a valid boolean."]})
    assert (Msg.objects.count(), gateway.requests) == (0, [])


def test_every_day_is_a_window_too(admin, sms, gateway):
    body = {"urns": URNS, "text": "Hi", "send_window": {"days": EVERY_DAY, "start": "00:00", "end": "24:00"}}
    answer = post(admin, body).json()
    assert (answer["send_window"]["timezone"], answer["waiting_until"]) == ("UTC", None)
    assert len(gateway.requests) == 2
