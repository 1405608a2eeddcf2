"""The sending pipeline end to end: POST a broadcast, and the fake gateway on 127.0.0.1 receives the messages.

Tasks run eagerly (the same task code, without a broker) on a database that really commits, so every
`on_commit` hand-off happens as in production.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from herald.channels.callbacks import callback_urls
from herald.channels.registry import create_channel
from herald.contacts.models import Contact, ContactStatus
from herald.msgs import delivery, fanout, tasks
from herald.msgs.compose import MessageComposer
from herald.msgs.models import Broadcast, FailedReason, Msg, MsgStatus
from herald.msgs.tests.support import create_batch, fan_out
from herald.testing.factories import make_broadcast, make_contact, make_group
from herald.testing.fixtures import post_broadcast
from herald.testing.gateway import gateway_channel, reply

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


@pytest.fixture
def sms(workspace, gateway):
    return gateway_channel(workspace, gateway.url)


def sent_texts(gateway) -> dict:
    return {r.json["to"]: r.json["text"] for r in gateway.requests}


def test_each_recipient_gets_one_message_in_their_language(admin, workspace, sms, gateway):
    ann = make_contact(workspace, "Ann Smith", ["tel:+250788111111"], language="fra")
    bob = make_contact(workspace, "Bob", ["tel:+250788222222"])
    cat = make_contact(workspace, "Cat", ["tel:+250788333333"], language="kin")
    dan = make_contact(workspace, "Dan", ["tel:+250788444444"], language="spa")  # not a workspace language
    team = make_group(workspace, "Team", [ann, bob, cat, dan])

    body = post_broadcast(
        admin,
        {
            "text": {"eng": "Hello @contact.first_name!", "fra": "Bonjour @contact.name!"},
            # Ann three ways, Bob twice: each still gets one message.
            "urns": ["tel:0788111111", "tel:+250788555555"],
            "contacts": [str(ann.uuid), str(bob.uuid)],
            "groups": [str(team.uuid)],
        },
    )

    assert sent_texts(gateway) == {
        "+250788111111": "Bonjour Ann Smith!",
        "+250788222222": "Hello Bob!",
        "+250788333333": "Hello Cat!",  # kin has no translation: the primary language's
        "+250788444444": "Hello Dan!",
        "+250788555555": "Hello !",  # a new contact, created for the unknown URN, has no name yet
    }
    assert len(gateway.requests) == 5
    assert Contact.objects.filter(urns__identity="tel:+250788555555").count() == 1

    listed = admin.get(f"/api/v2/broadcasts.json?uuid={body['uuid']}").json()["results"][0]
    assert listed["status"] == "completed"
    assert listed["progress"] == {"total": 5, "started": 5}

    messages = admin.get(f"/api/v2/messages.json?broadcast={body['uuid']}").json()["results"]
    assert len(messages) == 5
    assert {m["status"] for m in messages} == {"wired"}
    assert {m["text"] for m in messages if m["contact"]["uuid"] == str(ann.uuid)} == {"Bonjour Ann Smith!"}
    by_id = admin.get(f"/api/v2/messages.json?broadcast={body['id']}").json()["results"]
    assert [m["uuid"] for m in by_id] == [m["uuid"] for m in messages]


def test_gateway_receives_the_message_uuid(admin, workspace, sms, gateway):
    make_contact(workspace, "Ann", ["tel:+250788111111"])
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})
    msg = Msg.objects.get()
    assert gateway.requests[0].json["id"] == str(msg.uuid)
    assert msg.channel == sms
    assert msg.contact_urn.identity == "tel:+250788111111"


def test_inactive_contacts_addressed_directly_get_a_failed_message_group_members_none(
    admin,
    workspace,
    sms,
    gateway,
):
    blocked = make_contact(workspace, "Blocked", ["tel:+250788111111"], status=ContactStatus.BLOCKED)
    stopped_member = make_contact(workspace, "Stopped", ["tel:+250788222222"], status=ContactStatus.STOPPED)
    active_member = make_contact(workspace, "Active", ["tel:+250788333333"])
    group = make_group(workspace, "G", [stopped_member, active_member])

    post_broadcast(admin, {"text": "Hi", "contacts": [str(blocked.uuid)], "groups": [group.name]})

    assert list(sent_texts(gateway)) == ["+250788333333"]
    failed = Msg.objects.get(contact=blocked)
    assert (failed.status, failed.failed_reason) == (MsgStatus.FAILED, FailedReason.CONTACT)
    assert not Msg.objects.filter(contact=stopped_member).exists()
    assert Broadcast.objects.get().msg_count == 2


def test_contact_without_a_route_gets_a_failed_message(admin, workspace, sms, gateway):
    post_broadcast(admin, {"text": "Hi", "urns": ["twitter:bobby", "tel:+250788111111"]})
    by_urn = {m.contact.urns.get().identity: m for m in Msg.objects.select_related("contact")}
    assert by_urn["twitter:bobby"].status == MsgStatus.FAILED
    assert by_urn["twitter:bobby"].failed_reason == FailedReason.NO_DESTINATION
    assert by_urn["tel:+250788111111"].status == MsgStatus.WIRED


def test_templates_fill_attachments_and_quick_replies_per_contact(admin, workspace, gateway):
    create_channel(workspace, "external", "Gw", schemes=["tel"],
                   config={"send_url": f"{gateway.url}/send", "content_type": "json"})  # fmt: skip
    make_contact(workspace, "Ann", ["tel:+250788111111"])
    make_contact(workspace, "Bob", ["tel:+250788222222"])
    post_broadcast(
        admin,
        {
            "text": "Hi @contact.name, write to help@example.com or @@herald",
            "quick_replies": [{"text": "I am @contact.name"}, {"text": "Stop"}],
            "urns": ["tel:+250788111111", "tel:+250788222222"],
        },
    )
    texts = {m.contact.name: (m.text, m.quick_replies) for m in Msg.objects.select_related("contact")}
    assert texts["Ann"] == (
        "Hi Ann, write to help@example.com or @herald",
        [{"type": "text", "text": "I am Ann"}, {"type": "text", "text": "Stop"}],
    )
    assert texts["Bob"][1][0] == {"type": "text", "text": "I am Bob"}


def test_typed_fields_render_as_rapidpros_expressions_do(admin, workspace, sms, gateway):
    """Numbers without trailing zeros (and usable as numbers), datetimes as ISO 8601 in the workspace's timezone,
    as goflow renders a number and a datetime value."""
    workspace.timezone = "Africa/Kigali"
    workspace.save(update_fields=["timezone"])
    fields = [("Age", "number"), ("Registered", "datetime"), ("Province", "state"), ("Height", "number")]
    for name, value_type in fields:
        created = admin.post("/api/v2/fields.json", {"name": name, "type": value_type}, format="json")
        assert created.status_code == 201
    fields = {"age": "12.50", "registered": "2026-01-15T08:30:00Z", "province": "Kigali City"}
    response = admin.post("/api/v2/contacts.json", {"urns": ["tel:+250788111111"], "fields": fields}, format="json")
    assert response.status_code == 201
    text = "@fields.age @(fields.age + 1) @fields.registered @(format_date(fields.registered)) @fields.province"
    # A field the contact has no value for is there, null: empty, and 0 in arithmetic (as in goflow).
    text += " [@fields.height] @(fields.height + 1)"
    post_broadcast(admin, {"text": text, "urns": ["tel:+250788111111"]})
    expected = "12.5 13.5 2026-01-15T10:30:00.000000+02:00 2026-01-15 Kigali City [] 1"
    assert sent_texts(gateway) == {"+250788111111": expected}

    # A datetime renders in the workspace's timezone of the day it is sent.
    workspace.timezone = "America/New_York"
    workspace.save(update_fields=["timezone"])
    gateway.requests.clear()
    post_broadcast(admin, {"text": "@contact.fields.registered", "urns": ["tel:+250788111111"]})
    assert sent_texts(gateway) == {"+250788111111": "2026-01-15T03:30:00.000000-05:00"}

    # So does the contact's own creation time.
    gateway.requests.clear()
    post_broadcast(admin, {"text": "@contact.created_on", "urns": ["tel:+250788111111"]})
    created_on = Contact.objects.get(urns__identity="tel:+250788111111").created_on
    rendered = datetime.fromisoformat(sent_texts(gateway)["+250788111111"])
    assert rendered == created_on
    assert rendered.utcoffset() == ZoneInfo("America/New_York").utcoffset(created_on)


def test_rendered_texts_are_bounded(admin, workspace, sms, gateway):
    """F3: a short template over long field values made one SMS of 150,000,000 characters."""
    assert admin.post("/api/v2/fields.json", {"name": "Bio", "type": "text"}, format="json").status_code == 201
    for urn, bio in (("tel:+250788111111", "x" * 640), ("tel:+250788222222", "hi")):
        created = admin.post("/api/v2/contacts.json", {"urns": [urn], "fields": {"bio": bio}}, format="json")
        assert created.status_code == 201, created.json()
    # A value stored before values were limited: its lookups run past the render budget and render empty.
    make_contact(workspace, "Legacy", ["tel:+250788333333"], fields={"bio": "y" * 1_500_000})

    urns = ["tel:+250788111111", "tel:+250788222222", "tel:+250788333333"]
    text, quick_replies = "@fields.bio" * 15 + " end", [{"text": "@fields.bio"}]
    post_broadcast(admin, {"text": text, "quick_replies": quick_replies, "urns": urns})

    too_long = Msg.objects.get(contact_urn__identity="tel:+250788111111")
    assert (too_long.status, too_long.failed_reason) == (MsgStatus.FAILED, FailedReason.TOO_LONG)
    assert too_long.error_detail == (
        "Once rendered, its text and quick replies are 10,244 characters, more than the 10,000 a message may have"
    )
    assert (len(too_long.text), too_long.quick_replies) == (9_604, [])
    assert sent_texts(gateway) == {"+250788222222": "hi" * 15 + " end", "+250788333333": " end"}
    legacy = Msg.objects.get(contact_urn__identity="tel:+250788333333")
    assert legacy.quick_replies == [{"type": "text", "text": ""}]
    listed = admin.get("/api/v2/messages.json")
    assert listed.status_code == 200
    assert len(listed.content) < 50_000


def test_transient_errors_are_retried_until_sent(admin, workspace, sms, gateway):
    gateway.will(reply(503), reply(200))
    make_contact(workspace, "Ann", ["tel:+250788111111"])
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})

    msg = Msg.objects.get()
    assert msg.status == MsgStatus.ERRORED
    assert msg.error_count == 1
    assert msg.next_attempt

    tasks.tick()  # not yet due: nothing happens
    assert Msg.objects.get().status == MsgStatus.ERRORED

    Msg.objects.update(next_attempt=timezone.now() - timedelta(seconds=1))
    tasks.tick()
    msg.refresh_from_db()
    assert msg.status == MsgStatus.WIRED
    assert len(gateway.requests) == 2


def test_permanent_errors_fail_with_a_reason(admin, workspace, sms, gateway):
    gateway.will(reply(400, "unknown number"))
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})
    msg = Msg.objects.get()
    assert msg.status == MsgStatus.FAILED
    assert msg.failed_reason == FailedReason.PERMANENT
    assert "400" in msg.error_detail


def test_delivery_reports_move_messages_forward(admin, workspace, sms, gateway, client):
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})
    msg = Msg.objects.get()
    assert client.post(callback_urls(sms)["delivered"], {"id": str(msg.uuid)}).status_code == 200
    assert client.post(callback_urls(sms)["sent"], {"id": str(msg.uuid)}).status_code == 200
    msg.refresh_from_db()
    assert msg.status == MsgStatus.DELIVERED


def test_fan_out_run_twice_creates_nothing_twice(workspace, sms):
    contacts = [make_contact(workspace, f"C{i}", [f"tel:+25078800{i:04d}"]) for i in range(30)]
    broadcast = make_broadcast(workspace, "Hi", groups=[make_group(workspace, "All", contacts)])
    fan_out(broadcast.id)
    Broadcast.objects.filter(id=broadcast.id).update(status="S")  # as if the worker died before finishing
    fan_out(broadcast.id)
    composer = MessageComposer(broadcast)
    create_batch(composer, [c.id for c in contacts])  # a batch replayed after a crash

    broadcast.refresh_from_db()
    assert Msg.objects.filter(broadcast=broadcast).count() == 30
    assert broadcast.msg_count == 30
    assert broadcast.contact_count == 30
    assert broadcast.status == "C"


def test_small_batches_walk_every_recipient_once(settings, workspace, sms):
    settings.FANOUT_BATCH_SIZE = 7
    members = [make_contact(workspace, f"C{i}", [f"tel:+25078800{i:04d}"]) for i in range(50)]
    direct = make_contact(workspace, "Direct", ["tel:+250788999999"])
    broadcast = make_broadcast(
        workspace, "Hi", contacts=[direct, members[3]], groups=[make_group(workspace, "A", members)]
    )
    fan_out(broadcast.id)
    assert sorted(Msg.objects.values_list("contact_id", flat=True)) == sorted(c.id for c in [*members, direct])


def test_tick_resumes_a_broadcast_whose_task_was_lost(settings, workspace, sms, gateway):
    settings.BROADCAST_STALL_SECONDS = 0
    make_contact(workspace, "Ann", ["tel:+250788111111"])
    broadcast = make_broadcast(workspace, "Hi", urns=["tel:+250788111111"])  # stored, never enqueued
    Broadcast.objects.filter(id=broadcast.id).update(modified_on=timezone.now() - timedelta(seconds=5))

    tasks.tick()

    broadcast.refresh_from_db()
    assert broadcast.status == "C"
    assert len(gateway.requests) == 1


def test_rate_limit_caps_each_second(workspace, gateway, monkeypatch):
    channel = create_channel(workspace, "external", "Slow", schemes=["tel"], tps=4,
                             config={"send_url": f"{gateway.url}/send"})  # fmt: skip
    contacts = [make_contact(workspace, f"C{i}", [f"tel:+25078800{i:04d}"]) for i in range(10)]
    broadcast = make_broadcast(workspace, "Hi", contacts=contacts)
    fan_out(broadcast.id)

    chunks = []
    real_due = delivery.due_messages
    monkeypatch.setattr(delivery, "due_messages", lambda *a: chunks.append(len(got := real_due(*a))) or got)
    assert delivery.deliver(channel.id) == 10
    assert chunks == [4, 4, 2, 0]  # never more than tps messages in one second's chunk
    assert Msg.objects.filter(status=MsgStatus.WIRED).count() == 10


def stall(broadcast):
    """What the tick waits for before it resumes a broadcast: nothing done on it for a while."""
    Broadcast.objects.filter(id=broadcast.id).update(modified_on=timezone.now() - timedelta(minutes=5))


def test_a_fan_out_that_keeps_failing_fails_the_broadcast(settings, workspace, sms, monkeypatch):
    settings.BROADCAST_MAX_FAILURES = 2
    broadcast = make_broadcast(workspace, "Hi", urns=["tel:+250788111111"])

    def broken(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(fanout, "Audience", broken)
    with pytest.raises(ValueError, match="a bug"):
        tasks.start_broadcast(broadcast.id)
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.failures) == ("Q", 1)  # retried by the tick ...

    stall(broadcast)
    with pytest.raises(ValueError, match="a bug"):
        tasks.start_broadcast(broadcast.id)
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.failures) == ("F", 2)  # ... but not forever


@pytest.mark.parametrize(("deaths", "status"), [(1, "C"), (2, "C"), (3, "F")])
def test_attempts_whose_worker_died_count_as_failures(settings, workspace, sms, deaths, status):
    """A worker killed by the kernel raises nothing: its attempt was counted when it began, and stays counted."""
    settings.BROADCAST_MAX_FAILURES = 3
    broadcast = make_broadcast(workspace, "Hi", urns=["tel:+250788111111"])
    for _ in range(deaths):
        assert fanout.split_into_ranges(broadcast.id, settings.FANOUT_TASK_SIZE).ranges  # begun ... and its worker died
        stall(broadcast)

    tasks.start_broadcast(broadcast.id)  # the tick resuming it

    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.failures) == (status, 0 if status == "C" else 3)
    assert Msg.objects.filter(broadcast=broadcast).count() == (1 if status == "C" else 0)


def test_a_broadcast_whose_worker_died_before_counting_its_recipients_gets_them_counted(settings, workspace, sms):
    broadcast = make_broadcast(workspace, "Hi", urns=["tel:+250788111111", "tel:+250788222222"])
    assert fanout._claim(broadcast, pending=True) == 0  # taken out of pending ... and its worker died
    stall(broadcast)

    tasks.start_broadcast(broadcast.id)

    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.contact_count, broadcast.msg_count) == ("C", 2, 2)


def test_a_death_after_messages_were_written_starts_the_count_afresh(settings, workspace, sms):
    settings.BROADCAST_MAX_FAILURES = 1
    settings.FANOUT_BATCH_SIZE = 1
    contacts = [make_contact(workspace, f"C{i}", [f"tel:+25078811{i:04d}"]) for i in range(3)]
    broadcast = make_broadcast(workspace, "Hi", contacts=contacts)
    fanout.split_into_ranges(broadcast.id, settings.FANOUT_TASK_SIZE)
    composer = MessageComposer(Broadcast.objects.get(id=broadcast.id))
    create_batch(composer, [contacts[0].id])  # one batch written, then the worker died
    assert Broadcast.objects.get(id=broadcast.id).failures == 0
    stall(broadcast)

    tasks.start_broadcast(broadcast.id)  # a kill in the middle of a fan-out is not held against it

    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.msg_count) == ("C", 3)


def test_a_duplicate_start_of_a_busy_broadcast_counts_nothing(settings, workspace, sms):
    broadcast = make_broadcast(workspace, "Hi", urns=["tel:+250788111111"])
    fanout.split_into_ranges(broadcast.id, settings.FANOUT_TASK_SIZE)  # begun moments ago, still at work
    for _ in range(settings.BROADCAST_MAX_FAILURES + 1):
        tasks.start_broadcast(broadcast.id)
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.failures) == ("Q", 1)
