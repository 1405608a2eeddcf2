"""POST /api/v2/broadcasts.json with `send_at`: a scheduled broadcast stays pending and untouched until its time,
then goes out; bad times are 400s naming the field; the list shows `send_at` and `?scheduled=true` lists those still
waiting. The live test with real workers (on time, once across a restart) is herald/msgs/tests/test_schedule_live.py.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from herald.api.v2.endpoints.broadcasts import BroadcastReadSerializer, attach_recipient_refs
from herald.msgs import recovery, tasks
from herald.msgs.models import Broadcast, BroadcastStatus, Msg
from herald.testing.factories import make_broadcast, make_contact
from herald.testing.fixtures import poster, results, uuids
from herald.testing.gateway import gateway_channel

URL = "/api/v2/broadcasts.json"
post = poster(URL)
# Bounds that end a stuck test; they don't judge speed (bench/schedule.py measures the lateness).
SETTLE_LIMIT_SECONDS = 20


@pytest.fixture
def joe(workspace):
    return make_contact(workspace, "Joe", ["tel:+250788123123"])


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def wire(moment: datetime) -> str:
    """As the API writes a time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def in_seconds(seconds: float) -> datetime:
    return timezone.now() + timedelta(seconds=seconds)


def body(joe, **extra) -> dict:
    return {"text": "Hi @contact.name", "contacts": [str(joe.uuid)], **extra}


# Nothing before its time, everything after it


@pytest.mark.django_db(transaction=True)  # commits as a real request does, so the tasks queued after it run
def test_nothing_goes_out_before_send_at_and_everything_after_it(admin, workspace, joe, gateway, eager_tasks):
    gateway_channel(workspace, gateway.url)
    send_at = in_seconds(2.5)
    # The start task runs at once here (eager tasks ignore `eta`): an early start must claim nothing.
    response = post(admin, body(joe, send_at=iso(send_at)))
    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["send_at"]) == ("pending", wire(send_at))
    broadcast = Broadcast.objects.get(uuid=response.json()["uuid"])

    # The worker's tick, as beat runs it, until the broadcast is done.
    deadline = time.monotonic() + SETTLE_LIMIT_SECONDS
    while Broadcast.objects.get(id=broadcast.id).status != BroadcastStatus.COMPLETED:
        tasks.tick()
        if timezone.now() < send_at:
            assert not Msg.objects.filter(broadcast=broadcast).exists()
            assert not gateway.requests
            assert Broadcast.objects.get(id=broadcast.id).status == BroadcastStatus.PENDING
        assert time.monotonic() < deadline, f"not started {SETTLE_LIMIT_SECONDS} s after it was due"
        time.sleep(0.05)

    (msg,) = Msg.objects.filter(broadcast=broadcast)
    assert msg.created_on >= send_at
    (request,) = gateway.requests
    assert request.json["text"] == "Hi Joe"


@pytest.mark.django_db(transaction=True)
def test_a_send_at_a_few_seconds_late_is_taken_as_now(admin, workspace, joe, gateway, eager_tasks):
    gateway_channel(workspace, gateway.url)
    response = post(admin, body(joe, send_at=iso(in_seconds(-30))))
    assert response.status_code == 201, response.content
    broadcast = Broadcast.objects.get(uuid=response.json()["uuid"])
    assert broadcast.status == BroadcastStatus.COMPLETED  # started by the POST's own start task
    assert broadcast.send_at >= broadcast.created_on - timedelta(seconds=1)  # stored as when it was taken
    assert len(gateway.requests) == 1


def test_no_start_task_nor_the_tick_starts_it_early(admin, workspace, joe):
    broadcast = make_broadcast(workspace, contacts=[joe], send_at=in_seconds(3600))
    Broadcast.objects.filter(id=broadcast.id).update(modified_on=timezone.now() - timedelta(days=1))  # quiet a day

    tasks.start_broadcast(broadcast.id)  # e.g. a task redelivered early, or a manual start
    assert recovery.stalled_broadcasts() == []  # nor does the tick pick it up

    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.contact_count, broadcast.failures) == (BroadcastStatus.PENDING, None, 0)
    assert not Msg.objects.exists()


def test_the_tick_starts_a_scheduled_broadcast_a_tick_after_it_is_due(settings, workspace, joe):
    settings.BROADCAST_STALL_SECONDS = 3600  # not through the stall rule: its start task may be lost with a worker
    settings.TICK_SECONDS = 1
    broadcast = make_broadcast(workspace, contacts=[joe], send_at=in_seconds(-0.5))
    assert recovery.stalled_broadcasts() == []  # its own start task's moment
    Broadcast.objects.filter(id=broadcast.id).update(send_at=in_seconds(-1.1))
    assert recovery.stalled_broadcasts() == [broadcast.id]


def test_a_null_send_at_is_an_unscheduled_broadcast(admin, joe):
    response = post(admin, body(joe, send_at=None))
    assert response.status_code == 201, response.content
    assert response.json()["send_at"] is None
    assert Broadcast.objects.get().send_at is None


# Bad times: a 400 naming the field, nothing written


INVALID = "Must be an ISO 8601 datetime with a timezone offset, e.g. 2027-01-31T18:00:00Z."
NAIVE = "Must include a timezone offset (e.g. +02:00 or Z): 2027-01-31T18:00:00 names no single instant."
PAST = "Must be in the future (a time up to 60 seconds ago is taken as now)."


@pytest.mark.parametrize(
    ("send_at", "error"),
    [
        ("2027-01-31T18:00:00", NAIVE),  # a local time in which zone? Refused rather than guessed (C42)
        ("tomorrow", INVALID),
        ("2027-02-30T18:00:00Z", INVALID),
        (1767225600, INVALID),
        ("", INVALID),
        ("0001-01-01T00:00:00+01:00", INVALID),  # before year 1 in UTC
        ("2020-01-01T00:00:00Z", PAST),
    ],
)
def test_a_bad_send_at_is_a_400_naming_the_field(admin, joe, send_at, error):
    response = post(admin, body(joe, send_at=send_at))
    assert response.status_code == 400, response.content
    assert response.json() == {"send_at": [error]}
    assert not Broadcast.objects.exists()


def test_send_at_in_the_past_beyond_the_tolerance_or_too_far_ahead_is_a_400(admin, joe):
    for moment, error in [
        (in_seconds(-120), PAST),
        (in_seconds(367 * 86400), "Must be at most 366 days ahead."),
    ]:
        response = post(admin, body(joe, send_at=iso(moment)))
        assert (response.status_code, response.json()) == (400, {"send_at": [error]})
    assert not Broadcast.objects.exists()


def test_an_offset_is_read_as_the_instant_it_names(admin, joe):
    local = (timezone.now() + timedelta(days=2)).astimezone(UTC).replace(microsecond=0)
    response = post(admin, body(joe, send_at=local.astimezone(timezone.get_fixed_timezone(-330)).isoformat()))
    assert response.status_code == 201, response.content
    assert response.json()["send_at"] == wire(local)
    assert Broadcast.objects.get().send_at == local


# The list


def test_the_list_shows_send_at_and_scheduled_lists_those_still_waiting(admin, workspace, joe):
    now = timezone.now()
    plain = make_broadcast(workspace, contacts=[joe], status=BroadcastStatus.COMPLETED, created_on=now)
    waiting = make_broadcast(workspace, contacts=[joe], send_at=now + timedelta(hours=1), created_on=now)
    begun = make_broadcast(
        workspace, contacts=[joe], send_at=now - timedelta(hours=1), status=BroadcastStatus.STARTED, created_on=now
    )
    listed = {item["uuid"]: item for item in results(admin.get(URL))}
    assert listed[str(plain.uuid)]["send_at"] is None
    assert listed[str(waiting.uuid)]["status"] == "pending"
    assert listed[str(waiting.uuid)]["send_at"] == wire(waiting.send_at)
    assert listed[str(begun.uuid)]["send_at"] is not None  # its time stays shown once it has begun

    assert uuids(admin.get(URL, {"scheduled": "true"})) == [str(waiting.uuid)]
    assert len(uuids(admin.get(URL, {"scheduled": "false"}))) == 3
    # With the other filters
    assert uuids(admin.get(URL, {"scheduled": "true", "uuid": str(waiting.uuid)})) == [str(waiting.uuid)]
    assert uuids(admin.get(URL, {"scheduled": "true", "uuid": str(begun.uuid)})) == []
    assert uuids(admin.get(URL, {"scheduled": "true", "before": iso(now - timedelta(minutes=1))})) == []
    assert uuids(admin.get(URL, {"scheduled": "true", "after": iso(now - timedelta(minutes=1))})) == [str(waiting.uuid)]


def test_scheduled_lists_nothing_of_another_workspace(admin, other_workspace):
    make_broadcast(other_workspace, send_at=in_seconds(3600))
    assert uuids(admin.get(URL, {"scheduled": "true"})) == []


def test_send_at_comes_after_rapidpros_fields_and_the_fast_path_gives_the_declared_bytes(admin, workspace, joe):
    make_broadcast(workspace, contacts=[joe], send_at=in_seconds(3600))
    make_broadcast(workspace, contacts=[joe])
    broadcasts = list(Broadcast.objects.filter(workspace=workspace).order_by("-created_on", "-id"))
    attach_recipient_refs(broadcasts)
    declared = BroadcastReadSerializer(context={"workspace": workspace})
    expected = [serializers.Serializer.to_representation(declared, b) for b in broadcasts]

    served = admin.get(URL).json()["results"]
    assert JSONRenderer().render(served) == JSONRenderer().render(expected)
    assert list(served[0])[-8:] == [
        "id",
        "send_at",
        "send_window",
        "waiting_until",
        "schedule",
        "parent",
        "expire_at",
        "counts",
    ]
