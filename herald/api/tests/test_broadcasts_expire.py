"""POST /api/v2/broadcasts.json with `expire_at` (docs/COMPATIBILITY.md, C49): what has not been handed to a channel by
then fails with reason `expired`, recipients not reached yet get their message already failed, the broadcast ends
`completed`; bad times are 400s naming the field, with nothing written."""

from collections import Counter
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from herald.msgs import delivery, tasks
from herald.msgs.models import Broadcast, BroadcastStatus, FailedReason, Msg, MsgStatus
from herald.testing.factories import make_broadcast, make_contact, make_msg
from herald.testing.fixtures import poster, results
from herald.testing.gateway import gateway_channel

URL = "/api/v2/broadcasts.json"
post = poster(URL)
B, S = BroadcastStatus, MsgStatus


@pytest.fixture
def people(workspace):
    return [make_contact(workspace, f"Person {i}", [f"tel:+25078820000{i}"]) for i in range(3)]


def iso(moment) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def wire(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def reasons(broadcast) -> Counter:
    return Counter(Msg.objects.filter(broadcast=broadcast).values_list("status", "failed_reason"))


def test_expire_at_is_stored_answered_and_listed_after_send_at(admin, people):
    send_at, expire_at = timezone.now() + timedelta(hours=1), timezone.now() + timedelta(hours=2)
    body = {"text": "Hi", "contacts": [str(people[0].uuid)], "send_at": iso(send_at), "expire_at": iso(expire_at)}
    response = post(admin, body)
    assert response.status_code == 201, response.content
    answered = response.json()
    names = list(answered)
    assert names.index("id") < names.index("send_at") < names.index("expire_at")  # Herald's, after RapidPro's
    assert answered["expire_at"] == wire(expire_at)
    assert results(admin.get(URL, {"uuid": answered["uuid"]})) == [answered]


def test_a_bad_expire_at_is_a_400_naming_the_field_and_nothing_is_written(admin, people):
    soon = timezone.now() + timedelta(hours=1)
    invalid = ["Must be an ISO 8601 datetime with a timezone offset, e.g. 2027-01-31T18:00:00Z."]
    naive = ["Must include a timezone offset (e.g. +02:00 or Z): 2027-01-31T18:00:00 names no single instant."]
    cases = [
        ({"expire_at": iso(timezone.now() - timedelta(seconds=5))}, {"expire_at": ["Must be in the future."]}),
        ({"send_at": iso(soon), "expire_at": iso(soon)}, {"expire_at": ["Must be after send_at."]}),
        (
            {"send_at": iso(soon), "expire_at": iso(soon - timedelta(minutes=1))},
            {"expire_at": ["Must be after send_at."]},
        ),
        ({"expire_at": "2027-01-31T18:00:00"}, {"expire_at": naive}),
        ({"expire_at": "tomorrow"}, {"expire_at": invalid}),
        ({"expire_at": 1735689600}, {"expire_at": invalid}),
        ({"expire_at": iso(timezone.now() + timedelta(days=400))}, {"expire_at": ["Must be at most 366 days ahead."]}),
    ]
    for extra, errors in cases:
        response = post(admin, {"text": "Hi", "contacts": [str(people[0].uuid)], **extra})
        assert (response.status_code, response.json()) == (400, errors), extra
    assert not Broadcast.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_messages_not_handed_over_by_expire_at_fail_expired_and_the_broadcast_completes(
    admin, workspace, people, gateway, eager_tasks
):
    channel = gateway_channel(workspace, gateway.url)
    broadcast = make_broadcast(workspace, contacts=people, status=B.COMPLETED, contact_count=3, msg_count=3)
    wired, *waiting = (make_msg(p, broadcast=broadcast, channel=channel, status=S.QUEUED) for p in people)
    Msg.objects.filter(id=wired.id).update(status=S.WIRED)
    Msg.objects.filter(id=waiting[1].id).update(status=S.ERRORED, next_attempt=timezone.now() + timedelta(hours=1))
    Broadcast.objects.filter(id=broadcast.id).update(expire_at=timezone.now() - timedelta(seconds=1))

    tasks.tick()
    assert reasons(broadcast) == {(S.WIRED, None): 1, (S.FAILED, FailedReason.EXPIRED): 2}
    listed = results(admin.get("/api/v2/messages.json", {"broadcast": str(broadcast.uuid), "status": "failed"}))
    assert [(m["failed_reason"], m["failed_detail"]) for m in listed] == [
        ("expired", "the broadcast expired before the message was sent")
    ] * 2
    (shown,) = results(admin.get(URL, {"uuid": str(broadcast.uuid)}))
    assert shown["status"] == "completed"
    delivery.deliver(channel.id)
    assert gateway.requests == []


@pytest.mark.django_db(transaction=True)
def test_recipients_not_fanned_out_at_expiry_get_one_message_each_already_expired(
    admin, workspace, people, gateway, eager_tasks
):
    gateway_channel(workspace, gateway.url)
    # Its workers were down from before its time until after its expiry.
    broadcast = make_broadcast(
        workspace,
        contacts=people,
        send_at=timezone.now() - timedelta(minutes=10),
        expire_at=timezone.now() - timedelta(minutes=5),
    )
    tasks.tick()
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.msg_count, broadcast.contact_count) == (B.COMPLETED, 3, 3)
    assert reasons(broadcast) == {(S.FAILED, FailedReason.EXPIRED): 3}
    assert Counter(Msg.objects.filter(broadcast=broadcast).values_list("contact_id", flat=True)) == {
        p.id: 1 for p in people
    }
    assert gateway.requests == []


@pytest.mark.django_db(transaction=True)
def test_a_sender_expires_a_broadcast_past_its_time_before_the_tick_does(workspace, people, gateway):
    channel = gateway_channel(workspace, gateway.url)
    broadcast = make_broadcast(workspace, contacts=people, status=B.COMPLETED, contact_count=3, msg_count=3)
    for person in people:
        make_msg(person, broadcast=broadcast, channel=channel, status=S.QUEUED)
    Broadcast.objects.filter(id=broadcast.id).update(expire_at=timezone.now() - timedelta(seconds=1))

    delivery.deliver(channel.id)  # no tick ran: the pre-send gate finds it expired
    assert gateway.requests == []
    assert reasons(broadcast) == {(S.FAILED, FailedReason.EXPIRED): 3}
    assert Broadcast.objects.get(id=broadcast.id).expired_on is not None


@pytest.mark.django_db(transaction=True)
def test_a_paused_broadcast_expires_too_and_ends_completed(admin, workspace, people, gateway, eager_tasks):
    channel = gateway_channel(workspace, gateway.url)
    broadcast = make_broadcast(workspace, contacts=people, status=B.STARTED, contact_count=3, msg_count=1)
    make_msg(people[0], broadcast=broadcast, channel=channel, status=S.QUEUED)
    response = admin.post(
        "/api/v2/broadcast_actions.json", {"broadcasts": [broadcast.id], "action": "pause"}, format="json"
    )
    assert response.status_code == 204
    Broadcast.objects.filter(id=broadcast.id).update(expire_at=timezone.now() - timedelta(seconds=1))

    tasks.tick()
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.msg_count) == (B.COMPLETED, 3)
    assert reasons(broadcast) == {(S.FAILED, FailedReason.EXPIRED): 3}
    assert gateway.requests == []
    response = admin.post(
        "/api/v2/broadcast_actions.json", {"broadcasts": [broadcast.id], "action": "resume"}, format="json"
    )
    assert response.json() == {"broadcasts": [f"Broadcast {broadcast.uuid} can't be resumed: it is expired."]}
