"""Fan-out cut into id ranges that several workers share: every recipient gets one message whatever runs twice,
runs at the same time or stops half-way; the broadcast completes once, with exact progress.

Tasks run eagerly here (the multi-process proof is test_multiworker.py); the database really commits.
"""

import itertools
import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from herald.channels.registry import create_channel
from herald.contacts.models import ContactStatus
from herald.msgs import fanout, tasks
from herald.msgs.models import Broadcast, BroadcastStatus, FailedReason, Msg, MsgStatus
from herald.msgs.tests.support import fan_out
from herald.testing.factories import make_broadcast, make_contact, make_group

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def small_batches(settings, eager_tasks):
    settings.FANOUT_BATCH_SIZE = 4
    settings.FANOUT_TASK_SIZE = 10


@pytest.fixture
def channel(workspace):
    # No gateway: only the fan-out is under test, delivery is never started (no `on_batch` in direct calls).
    return create_channel(workspace, "external", "Gw", schemes=["tel"], config={"send_url": "http://127.0.0.1:9/"})


@pytest.fixture
def audience(workspace, channel):
    """35 group members; 3 direct recipients (one of them a member too, one blocked, one outside the group)."""
    members = [make_contact(workspace, f"M{i}", [f"tel:+25078800{i:04d}"]) for i in range(35)]
    outsider = make_contact(workspace, "Outsider", ["tel:+250788999999"])
    blocked = make_contact(workspace, "Blocked", ["tel:+250788999998"], status=ContactStatus.BLOCKED)
    group = make_group(workspace, "All", members)
    broadcast = make_broadcast(workspace, "Hi @contact.name", contacts=[members[12], outsider, blocked], groups=[group])
    return broadcast, [*members, outsider, blocked]


def messages_by_contact(broadcast) -> dict:
    return {m.contact_id: m for m in Msg.objects.filter(broadcast=broadcast)}


def test_plan_cuts_the_audience_into_ranges_that_cover_it(audience):
    broadcast, _contacts = audience
    ranges = fanout.split_into_ranges(broadcast.id, 10).ranges
    assert len(ranges) == 4  # 35 members: 10 + 10 + 10 + the open-ended rest
    assert ranges[0][0] == 0
    assert ranges[-1][1] is None
    assert all(upto == after for (_, upto), (after, _) in itertools.pairwise(ranges))
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.contact_count, broadcast.msg_count) == (BroadcastStatus.QUEUED, 37, 0)


def test_ranges_run_in_any_order_make_one_message_each(audience):
    broadcast, contacts = audience
    ranges = fanout.split_into_ranges(broadcast.id, 10).ranges
    for after, upto in reversed(ranges):
        fanout.fan_out_range(broadcast.id, after, upto)
        if (after, upto) != ranges[0]:
            broadcast.refresh_from_db()
            assert broadcast.status == BroadcastStatus.STARTED  # the first range still has work

    by_contact = messages_by_contact(broadcast)
    assert set(by_contact) == {c.id for c in contacts}
    assert Msg.objects.filter(broadcast=broadcast).count() == 37
    assert by_contact[contacts[-1].id].failed_reason == FailedReason.CONTACT  # blocked, addressed directly
    assert by_contact[contacts[0].id].text == "Hi M0"
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.contact_count, broadcast.msg_count) == (BroadcastStatus.COMPLETED, 37, 37)


def test_a_range_run_twice_or_overlapping_ranges_create_nothing_twice(audience):
    broadcast, _contacts = audience
    ranges = fanout.split_into_ranges(broadcast.id, 10).ranges
    fanout.fan_out_range(broadcast.id, *ranges[1])
    fanout.fan_out_range(broadcast.id, *ranges[1])  # redelivered
    fanout.fan_out_range(broadcast.id, 0, None)  # everything, over what is done already
    fanout.fan_out_range(broadcast.id, *ranges[0])

    broadcast.refresh_from_db()
    assert Msg.objects.filter(broadcast=broadcast).count() == broadcast.msg_count == 37
    assert broadcast.status == BroadcastStatus.COMPLETED


def test_the_start_task_splits_and_every_recipient_gets_one_message(audience):
    broadcast, contacts = audience
    tasks.start_broadcast(broadcast.id)
    tasks.start_broadcast(broadcast.id)  # a duplicate start finds the broadcast taken care of

    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.COMPLETED
    assert sorted(messages_by_contact(broadcast)) == sorted(c.id for c in contacts)
    assert broadcast.msg_count == 37


def test_ranges_chained_one_after_another_reach_every_recipient_once(settings, audience):
    settings.FANOUT_PARALLEL_TASKS = 1  # one strand: each range task queues the next one
    broadcast, contacts = audience
    tasks.start_broadcast(broadcast.id)

    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.COMPLETED
    assert sorted(messages_by_contact(broadcast)) == sorted(c.id for c in contacts)
    assert Msg.objects.filter(broadcast=broadcast).count() == broadcast.msg_count == 37


def test_a_duplicate_start_while_the_fan_out_is_live_plans_nothing(audience):
    broadcast, _ = audience
    assert fanout.split_into_ranges(broadcast.id, 10).ranges
    assert fanout.split_into_ranges(broadcast.id, 10).ranges == []


def test_a_quiet_broadcast_is_planned_again_for_what_is_left(settings, audience):
    broadcast, _contacts = audience
    ranges = fanout.split_into_ranges(broadcast.id, 10).ranges
    fanout.fan_out_range(broadcast.id, *ranges[0])  # then the worker died; the other range tasks were lost
    made = Msg.objects.filter(broadcast=broadcast).count()
    Broadcast.objects.filter(id=broadcast.id).update(modified_on=timezone.now() - timedelta(minutes=5))

    again = fanout.split_into_ranges(broadcast.id, 10).ranges
    assert again
    assert again[0][0] == 0
    for after, upto in again:
        fanout.fan_out_range(broadcast.id, after, upto)
    broadcast.refresh_from_db()
    assert made == 10  # the first ten members; the direct recipients' ids are in later ranges
    assert Msg.objects.filter(broadcast=broadcast).count() == broadcast.msg_count == 37
    assert broadcast.status == BroadcastStatus.COMPLETED


def test_completion_waits_for_every_recipient_even_when_the_count_is_reached(audience, workspace):
    broadcast, _contacts = audience
    ranges = fanout.split_into_ranges(broadcast.id, 10).ranges
    for after, upto in ranges[1:]:
        fanout.fan_out_range(broadcast.id, after, upto)
    # The count says done (a contact joined after counting) but the first range has not run.
    Broadcast.objects.filter(id=broadcast.id).update(contact_count=1)
    assert fanout.complete_if_done(broadcast, fanout.Audience(broadcast)) is False
    fanout.fan_out_range(broadcast.id, *ranges[0])
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.COMPLETED


def test_a_broadcast_whose_recipients_all_have_messages_completes_on_resume(settings, audience):
    broadcast, _ = audience
    fan_out(broadcast.id)
    Broadcast.objects.filter(id=broadcast.id).update(
        status=BroadcastStatus.STARTED, modified_on=timezone.now() - timedelta(minutes=5)
    )
    assert fanout.split_into_ranges(broadcast.id, 10).ranges == []
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.COMPLETED
    assert broadcast.msg_count == 37


def test_rows_written_in_bulk_read_back_like_orm_rows(workspace, channel):
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"], language="fra")
    broadcast = make_broadcast(
        workspace,
        {
            "eng": {"text": "Hi", "attachments": ["image/jpeg:https://example.com/a.jpg"]},
            "fra": {"text": "Salut @contact.name ✓", "quick_replies": [{"type": "text", "text": "Oui 👍"}]},
        },
        contacts=[ann],
    )
    fan_out(broadcast.id)

    msg = Msg.objects.get(broadcast=broadcast)
    assert Msg.objects.get(uuid=msg.uuid) == msg  # stored as Django stores UUIDs on this database
    assert isinstance(msg.uuid, uuid.UUID)
    assert msg.uuid.version == 7
    assert msg.text == "Salut Ann ✓"
    assert msg.locale == "fra"
    assert msg.attachments == ["image/jpeg:https://example.com/a.jpg"]  # the base language's, as a list
    assert msg.quick_replies == [{"type": "text", "text": "Oui 👍"}]
    assert Msg.objects.filter(quick_replies__0__text="Oui 👍").count() == 1  # real JSON, not a string
    assert (msg.status, msg.channel, msg.contact_urn.identity) == (MsgStatus.QUEUED, channel, "tel:+250788111111")
    assert msg.msg_count == 2  # UCS-2 text in one part, plus the attachment
    assert (msg.direction, msg.visibility, msg.error_count, msg.external_id) == ("O", "V", 0, None)
    assert msg.created_on == msg.modified_on
    assert abs(msg.created_on - timezone.now()) < timedelta(minutes=1)
    assert json.loads(json.dumps(msg.attachments)) == msg.attachments


def quiet(broadcast):
    Broadcast.objects.filter(id=broadcast.id).update(modified_on=timezone.now() - timedelta(minutes=5))


def test_range_tasks_waiting_in_a_busy_queue_count_no_failure(settings, audience, monkeypatch):
    """The tick claims a quiet broadcast again while its range tasks still wait behind other work: no failure."""
    broadcast, _ = audience
    waiting = []
    monkeypatch.setattr(tasks.fan_out_range, "delay", lambda *args: waiting.append(args))
    for _ in range(settings.BROADCAST_MAX_FAILURES + 2):
        tasks.start_broadcast(broadcast.id)  # planned, its ranges queued ...
        quiet(broadcast)  # ... and none of them begun before the tick looked again
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.failures) == (BroadcastStatus.QUEUED, 0)

    for args in waiting:  # the queue drains at last
        tasks.fan_out_range(*args)
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.msg_count) == (BroadcastStatus.COMPLETED, 37)


def test_one_worker_killed_with_several_ranges_in_its_threads_is_one_failure(settings, audience):
    broadcast, _ = audience
    planned = fanout.split_into_ranges(broadcast.id, 10)
    fanout.settle_attempt(broadcast.id, planned.attempt)  # the start task queued its ranges and ended
    for _ in planned.ranges:  # four threads begin one range each ... and the worker is killed
        fanout.count_attempt(broadcast.id, planned.attempt)
    broadcast.refresh_from_db()
    assert broadcast.failures == 1
