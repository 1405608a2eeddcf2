"""A broadcast's `counts` (broadcasts.json, docs/COMPATIBILITY.md, C70) equal its messages whatever changes them:
the fan-out, sends (success, retry, refusal), delivery reports, deletions, and a random mix of all of them.

Everything goes through the real parts: the API, the fan-out and delivery as the eager tasks run them, a real
gateway on 127.0.0.1, the channel's callback URLs. The expected numbers come from messages.json (its statuses and
failed reasons), never from the counts' own code.
"""

import random
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django import db
from django.db import connection
from django.test import Client
from django.utils import timezone

from herald.contacts.models import Contact, ContactStatus
from herald.msgs import counts as broadcast_counts
from herald.msgs import tasks
from herald.msgs.models import Broadcast, BroadcastCount, Msg, MsgStatus
from herald.msgs.status import apply_status
from herald.testing.factories import make_contact, make_group
from herald.testing.fixtures import post_broadcast, results
from herald.testing.gateway import gateway_channel, reply

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

STATUSES = ("queued", "wired", "sent", "delivered", "read", "errored", "failed")
REASONS = (
    "contact", "no_destination", "suspended", "retries", "refused", "channel_removed", "too_long", "interrupted",
    "expired",
)  # fmt: skip
EXCLUSIONS = ("blocked", "stopped", "archived", "no_urn", "no_channel", "too_long", "suspended")
LEFT_OUT = ("stopped", "archived", "blocked")


@pytest.fixture
def sms(workspace, gateway):
    return gateway_channel(workspace, gateway.url)


def counts_of(client, broadcast_uuid: str) -> dict:
    (listed,) = results(client.get("/api/v2/broadcasts.json", {"uuid": broadcast_uuid}))
    return listed["counts"]


def listed_messages(client, broadcast_uuid: str) -> list[dict]:
    """Every message of the broadcast as messages.json lists it (following `next`)."""
    messages: list[dict] = []
    url, params = "/api/v2/messages.json", {"broadcast": broadcast_uuid}
    while url:
        page = client.get(url, params).json()
        messages += page["results"]
        url, params = page["next"], {}  # `next` keeps the filter
    return messages


def counts_from_messages(
    client, broadcast_uuid: str, excluded: dict | None = None, left_out: dict | None = None
) -> dict:
    """What `counts` must say, worked out from messages.json."""
    messages = listed_messages(client, broadcast_uuid)
    statuses = Counter(m["status"] for m in messages)
    reasons = Counter(m["failed_reason"] for m in messages if m["status"] == "failed")
    return {
        **{status: statuses[status] for status in STATUSES},
        "failed_reasons": {reason: reasons[reason] for reason in REASONS},
        "excluded": {reason: (excluded or {}).get(reason, 0) for reason in EXCLUSIONS},
        "left_out": {status: (left_out or {}).get(status, 0) for status in LEFT_OUT},
    }


def report(channel, action: str, msg_uuid) -> None:
    response = Client().post(f"/c/ex/{channel.uuid}/{channel.callback_secret}/{action}", {"id": str(msg_uuid)})
    assert response.status_code == 200, response.content


def make_due() -> None:
    """Every errored message's retry time has come."""
    Msg.objects.filter(next_attempt__isnull=False).update(next_attempt=timezone.now() - timedelta(seconds=1))


def test_after_the_fan_out_counts_say_what_was_sent_and_who_was_excluded(admin, workspace, sms, gateway):
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"])
    bob = make_contact(workspace, "Bob", ["tel:+250788222222"])
    blocked = make_contact(workspace, "Blocked", ["tel:+250788333333"], status=ContactStatus.BLOCKED)
    stopped = make_contact(workspace, "Stopped", ["tel:+250788444444"], status=ContactStatus.STOPPED)
    no_urn = make_contact(workspace, "Nobody", [])
    no_channel = make_contact(workspace, "Mail", ["mailto:mail@example.com"])
    team = make_group(workspace, "Team", [ann, bob])
    direct = [str(c.uuid) for c in (blocked, stopped, no_urn, no_channel)]

    body = post_broadcast(admin, {"text": "Hi", "groups": [str(team.uuid)], "contacts": direct})

    excluded = {"blocked": 1, "stopped": 1, "no_urn": 1, "no_channel": 1}
    assert counts_of(admin, body["uuid"]) == {
        "queued": 0,
        "wired": 2,
        "sent": 0,
        "delivered": 0,
        "read": 0,
        "errored": 0,
        "failed": 4,
        "failed_reasons": {**dict.fromkeys(REASONS, 0), "contact": 2, "no_destination": 2},
        "excluded": {**dict.fromkeys(EXCLUSIONS, 0), **excluded},
        "left_out": dict.fromkeys(LEFT_OUT, 0),
    }
    assert counts_of(admin, body["uuid"]) == counts_from_messages(admin, body["uuid"], excluded)


def test_the_counts_say_who_the_fan_out_left_out_as_the_dry_run_did(admin, workspace, sms):
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"])
    members = [make_contact(workspace, f"S{n}", [f"tel:+25078822222{n}"], status=ContactStatus.STOPPED) for n in "12"]
    archived = make_contact(workspace, "Gone", ["tel:+250788333333"], status=ContactStatus.ARCHIVED)
    addressed = make_contact(workspace, "Direct", ["tel:+250788444444"], status=ContactStatus.STOPPED)
    team = make_group(workspace, "Team", [ann, *members, archived, addressed])
    body = {"text": "Hi", "groups": [str(team.uuid)], "contacts": [str(addressed.uuid)]}

    plan = admin.post("/api/v2/broadcasts.json", {**body, "dry_run": True}, format="json").json()
    sent = post_broadcast(admin, body)

    left_out = {"stopped": 2, "archived": 1, "blocked": 0}  # the addressed one is a recipient: excluded instead
    assert plan["left_out"] == left_out
    counts = counts_of(admin, sent["uuid"])
    assert (counts["left_out"], counts["excluded"]) == (plan["left_out"], plan["excluded"])
    assert counts["excluded"]["stopped"] == 1
    assert counts == counts_from_messages(admin, sent["uuid"], {"stopped": 1}, left_out)


def test_the_dry_run_predicts_the_exclusions_the_send_records(admin, workspace, sms):
    make_contact(workspace, "Ann", ["tel:+250788111111"])
    blocked = make_contact(workspace, "Blocked", ["tel:+250788333333"], status=ContactStatus.BLOCKED)
    body = {"text": "Hi", "urns": ["tel:+250788111111", "tel:+250788999999"], "contacts": [str(blocked.uuid)]}

    planned = admin.post("/api/v2/broadcasts.json", {**body, "dry_run": True}, format="json").json()
    sent = post_broadcast(admin, body)

    expected = {**dict.fromkeys(EXCLUSIONS, 0), "blocked": 1}
    assert counts_of(admin, sent["uuid"])["excluded"] == planned["excluded"] == expected


def test_sends_retries_and_refusals_move_the_counts(admin, workspace, sms, gateway, settings):
    settings.SEND_MAX_RETRIES = 1
    gateway.will(reply(503), reply(503), reply(400, "unknown number"), reply(200))
    urns = ["tel:+250788111111", "tel:+250788222222", "tel:+250788333333"]
    body = post_broadcast(admin, {"text": "Hi", "urns": urns})
    uuid = body["uuid"]
    # Two transient errors, one refusal: in id order, the first two errored, the third refused.
    assert counts_of(admin, uuid) == counts_from_messages(admin, uuid)
    assert [counts_of(admin, uuid)[s] for s in ("errored", "failed", "wired")] == [2, 1, 0]
    assert counts_of(admin, uuid)["failed_reasons"]["refused"] == 1

    make_due()
    tasks.tick()  # the retries: 200 from now on
    assert [counts_of(admin, uuid)[s] for s in ("errored", "failed", "wired")] == [0, 1, 2]
    assert counts_of(admin, uuid) == counts_from_messages(admin, uuid)


def test_retries_exhausted_count_as_failed_for_retries(admin, workspace, sms, gateway, settings):
    settings.SEND_MAX_RETRIES = 1
    gateway.will(reply(503))
    body = post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})
    make_due()
    tasks.tick()
    counted = counts_of(admin, body["uuid"])
    assert (counted["errored"], counted["failed"], counted["failed_reasons"]["retries"]) == (0, 1, 1)
    assert counted == counts_from_messages(admin, body["uuid"])


def test_delivery_reports_move_the_counts_forward_only(admin, workspace, sms, gateway):
    body = post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111", "tel:+250788222222"]})
    first, second = Msg.objects.order_by("id")
    report(sms, "sent", first.uuid)
    report(sms, "delivered", first.uuid)
    report(sms, "sent", first.uuid)  # late: changes nothing
    report(sms, "failed", second.uuid)

    counted = counts_of(admin, body["uuid"])
    assert [counted[s] for s in STATUSES] == [0, 0, 0, 1, 0, 0, 1]
    assert counted["failed_reasons"]["refused"] == 1
    assert counted == counts_from_messages(admin, body["uuid"])

    report(sms, "delivered", second.uuid)  # a delivery report still wins over failed (C14)
    counted = counts_of(admin, body["uuid"])
    assert [counted[s] for s in STATUSES] == [0, 0, 0, 2, 0, 0, 0]
    assert counted == counts_from_messages(admin, body["uuid"])


def test_single_messages_and_other_broadcasts_count_nothing_here(admin, workspace, sms, gateway):
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"])
    one = post_broadcast(admin, {"text": "Hi", "contacts": [str(ann.uuid)]})
    two = post_broadcast(admin, {"text": "Hi again", "contacts": [str(ann.uuid)]})
    response = admin.post("/api/v2/messages.json", {"contact": str(ann.uuid), "text": "Just you"}, format="json")
    assert response.status_code == 201
    assert counts_of(admin, one["uuid"])["wired"] == counts_of(admin, two["uuid"])["wired"] == 1


def test_deleted_messages_leave_the_counts(admin, workspace, sms, gateway):
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"])
    bob = make_contact(workspace, "Bob", ["tel:+250788222222"])
    body = post_broadcast(admin, {"text": "Hi", "contacts": [str(ann.uuid), str(bob.uuid)]})

    # Deleting a contact through the API keeps its messages (C21): they still count.
    assert admin.delete(f"/api/v2/contacts.json?uuid={ann.uuid}").status_code == 204
    assert counts_of(admin, body["uuid"])["wired"] == 2

    # A contact row really deleted (a purge, a workspace's clean-up) takes its messages, and their counts, with it.
    Contact.objects.filter(id=bob.id).delete()
    assert counts_of(admin, body["uuid"])["wired"] == 1
    assert counts_of(admin, body["uuid"]) == counts_from_messages(admin, body["uuid"])


def test_a_deleted_broadcast_leaves_no_count_rows(admin, workspace, sms, gateway):
    body = post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})
    assert BroadcastCount.objects.filter(broadcast_id=body["id"]).exists()
    Broadcast.objects.filter(id=body["id"]).delete()
    assert not BroadcastCount.objects.exists()


def test_counts_always_equal_the_messages_under_a_random_mix_of_sends_reports_and_retries(
    admin, workspace, sms, gateway, settings
):
    rng = random.Random(13)
    settings.SEND_MAX_RETRIES = 2
    outcomes = [reply(200), reply(503), reply(400, "no"), reply(500)]
    gateway.will(*rng.choices(outcomes, k=40), reply(200))
    contacts = [make_contact(workspace, f"C{i}", [f"tel:+2507881{i:05d}"]) for i in range(30)]
    contacts[3].status = ContactStatus.BLOCKED
    contacts[3].save()
    team = make_group(workspace, "All", contacts[4:])
    body = post_broadcast(admin, {"text": "Hi", "groups": [str(team.uuid)], "contacts": [str(contacts[3].uuid)]})
    uuid = body["uuid"]
    excluded = {"blocked": 1}
    ids = list(Msg.objects.filter(broadcast_id=body["id"], channel=sms).values_list("uuid", flat=True))

    for step in range(60):
        action = rng.choice(["retry", "sent", "delivered", "failed", "squash"])  # `external` reports no `read`
        if action == "retry":
            make_due()
            tasks.tick()
        elif action == "squash":
            broadcast_counts.squash()
        else:
            for msg_uuid in rng.sample(ids, 3):
                report(sms, action, msg_uuid)
        assert counts_of(admin, uuid) == counts_from_messages(admin, uuid, excluded), f"step {step}: {action}"

    broadcast_counts.squash()
    assert counts_of(admin, uuid) == counts_from_messages(admin, uuid, excluded)
    finished = counts_of(admin, uuid)
    assert sum(finished[s] for s in STATUSES) == 27  # 26 members and the blocked contact


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's delta rows and their squash (SQLite has one writer)"
)
def test_concurrent_status_writers_and_squashes_lose_and_double_nothing(admin, workspace, sms, gateway):
    body = post_broadcast(admin, {"text": "Hi", "groups": [str(_group_of(workspace, 120).uuid)]})
    ids = list(Msg.objects.filter(broadcast_id=body["id"]).order_by("id").values_list("id", flat=True))
    statuses = [MsgStatus.SENT, MsgStatus.DELIVERED, MsgStatus.READ]
    errors: list[BaseException] = []

    def writer(part: list[int]) -> None:
        try:
            for status in statuses:  # forward moves, a few messages a statement
                for start in range(0, len(part), 5):
                    apply_status(Msg.objects.filter(id__in=part[start : start + 5]), status)
        except BaseException as error:
            errors.append(error)
        finally:
            db.connections.close_all()

    def squasher(stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                broadcast_counts.squash()
        except BaseException as error:
            errors.append(error)
        finally:
            db.connections.close_all()

    stop = threading.Event()
    squashers = [threading.Thread(target=squasher, args=(stop,)) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(ids[i::3],)) for i in range(3)]
    for thread in [*squashers, *writers]:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    stop.set()
    for thread in squashers:
        thread.join(timeout=120)

    assert errors == []
    assert counts_of(admin, body["uuid"]) == counts_from_messages(admin, body["uuid"])
    assert counts_of(admin, body["uuid"])["read"] == 120
    broadcast_counts.squash()
    assert BroadcastCount.objects.filter(broadcast_id=body["id"], squashed=False).count() == 0
    assert counts_of(admin, body["uuid"])["read"] == 120


def _group_of(workspace, size: int):
    return make_group(
        workspace, "Many", [make_contact(workspace, f"M{i}", [f"tel:+2507882{i:05d}"]) for i in range(size)]
    )
