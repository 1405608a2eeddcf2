"""`/api/v2/contact_actions.json`: one action on up to 100 contacts. Re-expresses RapidPro's
`temba/api/v2/tests/test_contact_actions.py::ContactActionsEndpointTest::test_endpoint` (its serializer is
`ContactBulkActionSerializer` in `temba/api/v2/serializers.py`); the differences are docs/COMPATIBILITY.md, C20 and
C21."""

import threading
import time

import pytest
from django.db import connection, transaction
from temba_client.exceptions import TembaBadRequestError

from herald.api.tests.test_official_client import client_for
from herald.contacts import writes
from herald.contacts.models import Contact, ContactStatus
from herald.msgs.models import FailedReason, Msg, MsgStatus
from herald.testing.factories import make_contact, make_group, make_msg
from herald.testing.fixtures import post_broadcast, poster, uuids
from herald.testing.gateway import gateway_channel

URL = "/api/v2/contact_actions.json"
post = poster(URL)


@pytest.fixture
def testers(workspace):
    return make_group(workspace, "Testers")


@pytest.fixture
def people(workspace):
    """RapidPro's cast: Ann, Bob and Cat active, Don blocked, Eve deleted; each has sent one message in."""
    cast = {
        name: make_contact(workspace, name, [f"tel:+25078800000{i}"])
        for i, name in enumerate(("Ann", "Bob", "Cat", "Don", "Eve"), start=1)
    }
    with transaction.atomic():
        writes.block([cast["Don"]])
        writes.delete_contact(cast["Eve"])
    for name in ("Ann", "Bob", "Cat", "Don"):
        make_msg(cast[name], "Hello", direction="I", status=MsgStatus.HANDLED)
    for contact in cast.values():
        contact.refresh_from_db()
    return cast


def ids(*contacts) -> list[str]:
    return [str(contact.uuid) for contact in contacts]


def members(group) -> set[str]:
    return {contact.name for contact in group.contacts.all()}


def snapshot(workspace) -> list:
    """Everything an action may change: each contact's status, deletion, URNs, groups and modified_on, and each
    message's visibility."""
    contacts = [
        (
            c.name,
            c.status,
            c.is_active,
            c.modified_on,
            sorted(u.identity for u in c.urns.all()),
            sorted(g.name for g in c.groups.all()),
        )
        for c in Contact.objects.filter(workspace=workspace).order_by("id")
    ]
    return [contacts, list(Msg.objects.order_by("id").values_list("id", "visibility"))]


def refused(client, workspace, body, errors) -> None:
    """`body` is a 400 with exactly these errors, and nothing changed."""
    before = snapshot(workspace)
    response = post(client, body)
    assert (response.status_code, response.json()) == (400, errors)
    assert snapshot(workspace) == before


# Access


def test_only_post_is_served_and_admins_and_editors_tokens_may_act(workspace, admin, assert_roles, people):
    ann = people["Ann"]
    assert_roles(
        URL,
        post={
            "anon": ({}, 403),
            "agent": ({"contacts": ids(ann), "action": "interrupt"}, 403),  # no agent's token works: C37
            "editor": ({"contacts": ids(ann), "action": "interrupt"}, 204),
            "admin": ({"contacts": ids(ann), "action": "interrupt"}, 204),
        },
    )
    assert admin.get(URL).status_code == 405
    assert admin.delete(URL).status_code == 405
    assert admin.put(URL, {}, format="json").status_code == 405


# Which contacts


def test_more_than_100_contacts_are_refused(workspace, editor, testers):
    body = {"contacts": [str(i) for i in range(101)], "action": "add", "group": "Testers"}
    refused(editor, workspace, body, {"contacts": ["Ensure this field has no more than 100 elements."]})


def test_a_deleted_contact_is_no_such_object_and_nobody_is_added(workspace, editor, people, testers):
    ann, cat, don, eve = people["Ann"], people["Cat"], people["Don"], people["Eve"]
    body = {"contacts": [*ids(ann), "tel:+250788000002", *ids(cat, don, eve)], "action": "add", "group": "Testers"}
    refused(editor, workspace, body, {"contacts": [f"No such object: {eve.uuid}"]})


def test_unknown_and_foreign_contacts_are_no_such_object(workspace, other_workspace, admin, people):
    theirs = make_contact(other_workspace, "Theirs", ["tel:+250788000009"])
    for ref in (str(theirs.uuid), "tel:+250788000009", "ad6acad9-959b-4d70-b144-5de2891e4d00", "nobody"):
        body = {"contacts": [*ids(people["Ann"]), ref], "action": "block"}
        refused(admin, workspace, body, {"contacts": [f"No such object: {ref}"]})
    assert Contact.objects.get(pk=theirs.pk).status == ContactStatus.ACTIVE


def test_no_contacts_or_no_list_is_refused(workspace, admin, people):
    refused(admin, workspace, {"contacts": [], "action": "block"}, {"contacts": ["Contacts can't be empty."]})
    refused(
        admin,
        workspace,
        {"contacts": str(people["Ann"].uuid), "action": "block"},
        {"contacts": ['Expected a list of items but got type "str".']},
    )
    refused(
        admin,
        workspace,
        {"contacts": [{"uuid": "x"}], "action": "block"},
        {"contacts": ["Must be a string or integer"]},
    )
    refused(admin, workspace, {}, {"contacts": ["This field is required."], "action": ["This field is required."]})


def test_urns_are_refused_in_an_anonymous_workspace_known_or_not(workspace, admin, people):
    # docs/COMPATIBILITY.md, C12: the same answer for Ann's number and for nobody's.
    workspace.is_anonymous = True
    workspace.save()
    for urn in ("tel:+250788000001", "tel:+250788000099"):
        body = {"contacts": [urn], "action": "block"}
        refused(admin, workspace, body, {"contacts": ["URN lookups not allowed for anonymous organizations"]})
    # By UUID it works.
    assert post(admin, {"contacts": ids(people["Ann"]), "action": "block"}).status_code == 204


def test_an_unknown_action_is_refused(workspace, admin, people):
    body = {"contacts": ids(people["Cat"]), "action": "like"}
    refused(admin, workspace, body, {"action": ['"like" is not a valid choice.']})
    refused(admin, workspace, {**body, "action": 5}, {"action": ['"5" is not a valid choice.']})
    refused(admin, workspace, {**body, "action": None}, {"action": ["This field may not be null."]})


def test_a_body_that_isnt_one_object_is_refused(workspace, admin, people):
    body = [{"contacts": ids(people["Cat"]), "action": "block"}]
    refused(admin, workspace, body, {"non_field_errors": ["Request body should be a single JSON object"]})


# add / remove


def test_a_blocked_contact_cant_be_added_and_nobody_is(workspace, admin, people, testers):
    ann, bob, cat, don = people["Ann"], people["Bob"], people["Cat"], people["Don"]
    body = {"contacts": ids(ann, bob, cat, don), "action": "add", "group": "Testers"}
    refused(
        admin, workspace, body, {"non_field_errors": [f"Non-active contacts cannot be added to groups: {don.uuid}"]}
    )


def test_add_by_group_name_or_uuid_and_contact_uuid_or_urn(workspace, admin, people, testers):
    ann, cat = people["Ann"], people["Cat"]
    before = ann.modified_on
    response = post(admin, {"contacts": [*ids(ann), "tel:+250788000002"], "action": "add", "group": "Testers"})
    assert (response.status_code, response.content) == (204, b"")
    assert members(testers) == {"Ann", "Bob"}
    ann.refresh_from_db()
    assert ann.modified_on > before  # clients syncing contacts by `after=` see the change

    assert post(admin, {"contacts": ids(cat), "action": "add", "group": str(testers.uuid)}).status_code == 204
    assert members(testers) == {"Ann", "Bob", "Cat"}
    # Adding a member again changes nothing.
    assert post(admin, {"contacts": ids(cat), "action": "add", "group": "testers"}).status_code == 204
    assert members(testers) == {"Ann", "Bob", "Cat"}


def test_remove_by_group_name_any_case_or_uuid(workspace, admin, people, testers):
    ann, bob, cat = people["Ann"], people["Bob"], people["Cat"]
    testers.contacts.add(ann, bob, cat)
    assert post(admin, {"contacts": ids(bob), "action": "remove", "group": "testers"}).status_code == 204
    assert members(testers) == {"Ann", "Cat"}
    assert post(admin, {"contacts": ids(cat), "action": "remove", "group": str(testers.uuid)}).status_code == 204
    assert members(testers) == {"Ann"}
    # Removing a contact that isn't a member is fine.
    assert post(admin, {"contacts": ids(cat), "action": "remove", "group": "Testers"}).status_code == 204


def test_add_and_remove_leave_the_contacts_other_groups_alone(workspace, admin, people, testers):
    ann = people["Ann"]
    reporters, survey = make_group(workspace, "Reporters", [ann]), make_group(workspace, "Survey", [ann])
    assert post(admin, {"contacts": ids(ann), "action": "add", "group": "Testers"}).status_code == 204
    assert post(admin, {"contacts": ids(ann), "action": "remove", "group": "Survey"}).status_code == 204
    assert set(ann.groups.values_list("name", flat=True)) == {"Reporters", "Testers"}
    assert (members(reporters), members(survey)) == ({"Ann"}, set())


def test_group_errors(workspace, other_workspace, admin, people, testers):
    ann = people["Ann"]
    theirs = make_group(other_workspace, "Testers")
    gone = make_group(workspace, "Gone")
    gone.is_active = False
    gone.save()
    for group in ("Spammers", "15611256-95b5-46d5-b857-abafe0d32fe9", str(theirs.uuid), str(gone.uuid), "Gone"):
        body = {"contacts": ids(ann), "action": "add", "group": group}
        refused(admin, workspace, body, {"group": [f"No such object: {group}"]})
    refused(
        admin,
        workspace,
        {"contacts": ids(ann), "action": "add"},
        {"non_field_errors": ['For action "add" you should also specify a group']},
    )
    refused(
        admin,
        workspace,
        {"contacts": ids(ann), "action": "remove", "group": None},
        {"group": ["This field may not be null."]},
    )
    refused(
        admin,
        workspace,
        {"contacts": ids(ann), "action": "add", "group": ""},
        {"group": ["This field may not be null."]},
    )
    refused(
        admin,
        workspace,
        {"contacts": ids(ann), "action": "add", "group": ["Testers"]},
        {"group": ["Must be a string or integer"]},
    )
    refused(
        admin,
        workspace,
        {"contacts": ids(people["Cat"]), "action": "block", "group": "Testers"},
        {"non_field_errors": ['For action "block" you should not specify a group']},
    )


# block / unblock


@pytest.mark.django_db(transaction=True)  # sending starts once the broadcast commits
@pytest.mark.usefixtures("eager_tasks")
def test_blocked_contacts_leave_their_groups_and_get_no_broadcast(workspace, admin, people, testers, gateway):
    ann, bob, cat, don = people["Ann"], people["Bob"], people["Cat"], people["Don"]
    testers.contacts.add(ann, bob, cat)
    response = post(admin, {"contacts": ids(ann, bob, cat, don), "action": "block"})
    assert response.status_code == 204
    blocked = Contact.objects.filter(status=ContactStatus.BLOCKED)
    assert set(blocked.values_list("name", flat=True)) == {"Ann", "Bob", "Cat", "Don"}
    assert members(testers) == set()

    # A broadcast to their group reaches none of them; addressed directly, Ann gets a failed message that is never
    # sent, as any contact that isn't active does (msgs/compose.py).
    gateway_channel(workspace, gateway.url)
    testers.contacts.add(make_contact(workspace, "Fay", ["tel:+250788000006"]))
    broadcast = post_broadcast(admin, {"text": "Hi", "groups": [str(testers.uuid)], "contacts": ids(ann)})
    messages = Msg.objects.filter(broadcast__uuid=broadcast["uuid"])
    assert {m.contact.name: (m.status, m.failed_reason) for m in messages} == {
        "Fay": (MsgStatus.WIRED, None),
        "Ann": (MsgStatus.FAILED, FailedReason.CONTACT),
    }
    assert [r.json["to"] for r in gateway.requests] == ["+250788000006"]


def test_unblock_makes_contacts_active_without_their_groups(workspace, admin, people, testers):
    ann, bob = people["Ann"], people["Bob"]
    testers.contacts.add(ann)
    assert post(admin, {"contacts": ids(ann, bob), "action": "block"}).status_code == 204
    Contact.objects.filter(pk=bob.pk).update(status=ContactStatus.STOPPED)

    assert post(admin, {"contacts": ids(ann, bob), "action": "unblock"}).status_code == 204
    statuses = dict(Contact.objects.filter(workspace=workspace).values_list("name", "status"))
    assert statuses == {
        "Ann": ContactStatus.ACTIVE,
        "Bob": ContactStatus.ACTIVE,
        "Cat": ContactStatus.ACTIVE,
        "Don": ContactStatus.BLOCKED,
        "Eve": ContactStatus.ACTIVE,  # deleted, as RapidPro's test has it
    }
    assert members(testers) == set()


# interrupt, archive_messages, delete


def test_interrupt_succeeds_and_changes_nothing(workspace, admin, people):
    # docs/COMPATIBILITY.md, C20: Herald runs no flows, so there is no run to interrupt.
    before = snapshot(workspace)
    assert post(admin, {"contacts": ids(people["Ann"], people["Bob"]), "action": "interrupt"}).status_code == 204
    assert snapshot(workspace) == before


def test_archive_messages_archives_the_contacts_incoming_messages(workspace, admin, people):
    ann, bob, cat = people["Ann"], people["Bob"], people["Cat"]
    inbox = {name: Msg.objects.get(contact=people[name], direction="I") for name in ("Ann", "Bob", "Cat", "Don")}
    sent_to_ann = make_msg(ann, "Hi", status=MsgStatus.SENT)

    assert post(admin, {"contacts": ids(ann, bob), "action": "archive_messages"}).status_code == 204

    def folder(name):
        return uuids(admin.get("/api/v2/messages.json", {"folder": name}))

    assert sorted(folder("archived")) == sorted(str(inbox[name].uuid) for name in ("Ann", "Bob"))
    assert sorted(folder("inbox")) == sorted(str(inbox[name].uuid) for name in ("Cat", "Don"))
    assert folder("sent") == [str(sent_to_ann.uuid)]  # outgoing messages stay where they are

    # `archive` is RapidPro's older name for the same action.
    assert post(admin, {"contacts": ids(cat), "action": "archive"}).status_code == 204
    assert sorted(folder("inbox")) == [str(inbox["Don"].uuid)]


def test_delete_deletes_the_contacts_as_contacts_json_does(workspace, admin, people, testers):
    ann, bob, cat = people["Ann"], people["Bob"], people["Cat"]
    testers.contacts.add(ann, bob, cat)
    assert post(admin, {"contacts": ids(ann, bob), "action": "delete"}).status_code == 204

    deleted = set(Contact.objects.filter(workspace=workspace, is_active=False).values_list("name", flat=True))
    assert deleted == {"Ann", "Bob", "Eve"}
    assert members(testers) == {"Cat"}
    assert not ann.urns.exists()
    # Their URNs are free again: a new contact can take one.
    response = admin.post("/api/v2/contacts.json", {"urns": ["tel:+250788000001"]}, format="json")
    assert response.status_code == 201
    # docs/COMPATIBILITY.md, C21: the messages they exchanged are kept (RapidPro deletes them).
    assert Msg.objects.filter(contact__in=[ann, bob]).count() == 2
    # Deleted now: acting on them again is "No such object".
    refused(admin, workspace, {"contacts": ids(ann), "action": "delete"}, {"contacts": [f"No such object: {ann.uuid}"]})


# Retries and the schema


def test_a_retry_with_the_same_idempotency_key_is_answered_again_without_acting(workspace, admin, people, testers):
    ann = people["Ann"]
    body = {"contacts": ids(ann), "action": "add", "group": "Testers"}
    first = post(admin, body, HTTP_IDEMPOTENCY_KEY="add-ann")
    assert first.status_code == 204
    testers.contacts.remove(ann)
    again = post(admin, body, HTTP_IDEMPOTENCY_KEY="add-ann")
    assert (again.status_code, again["Idempotent-Replayed"]) == (204, "true")
    assert members(testers) == set()


def test_openapi_describes_the_endpoint(anon):
    schema = anon.get("/api/v2/openapi.json").json()
    path = schema["paths"]["/api/v2/contact_actions.json"]
    assert set(path) == {"post"}
    assert {"204", "400", "403"} <= set(path["post"]["responses"])
    body = path["post"]["requestBody"]["content"]["application/json"]["schema"]
    request = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert sorted(request["required"]) == ["action", "contacts"]
    assert request["properties"]["group"] == {
        "type": "string",
        "description": request["properties"]["group"]["description"],
    }
    action = schema["components"]["schemas"][request["properties"]["action"]["$ref"].rsplit("/", 1)[1]]
    assert action["enum"] == ["add", "remove", "block", "unblock", "interrupt", "archive_messages", "delete", "archive"]


# The official client (rapidpro-python), against a live server


def test_every_bulk_contact_call_of_the_official_client(live_server, workspace, people, testers):
    ann, bob, cat = people["Ann"], people["Bob"], people["Cat"]
    temba = client_for(live_server, workspace)
    inbox = Msg.objects.get(contact=cat, direction="I")

    temba.bulk_add_contacts([str(ann.uuid), "tel:+250788000002"], group=str(testers.uuid))
    assert members(testers) == {"Ann", "Bob"}
    temba.bulk_remove_contacts([str(bob.uuid)], group="Testers")
    assert members(testers) == {"Ann"}

    temba.bulk_block_contacts([str(ann.uuid), str(bob.uuid)])
    statuses = dict(Contact.objects.filter(workspace=workspace, is_active=True).values_list("name", "status"))
    assert statuses == {"Ann": "B", "Bob": "B", "Cat": "A", "Don": "B"}
    assert members(testers) == set()
    temba.bulk_unblock_contacts([str(bob.uuid)])
    assert Contact.objects.get(pk=bob.pk).status == ContactStatus.ACTIVE

    before = snapshot(workspace)
    temba.bulk_interrupt_contacts([str(ann.uuid), str(bob.uuid)])
    assert snapshot(workspace) == before

    temba.bulk_archive_contact_messages([str(cat.uuid)])
    assert [m.uuid for m in temba.get_messages(folder="archived").all()] == [str(inbox.uuid)]

    temba.bulk_delete_contacts([str(ann.uuid), str(bob.uuid)])
    assert {c.name for c in temba.get_contacts().all()} == {"Cat", "Don"}

    with pytest.raises(TembaBadRequestError) as caught:
        temba.bulk_add_contacts([str(people["Don"].uuid)], group="Testers")
    assert caught.value.errors == {
        "non_field_errors": [f"Non-active contacts cannot be added to groups: {people['Don'].uuid}"]
    }
    with pytest.raises(TembaBadRequestError) as caught:
        temba.bulk_block_contacts([str(ann.uuid)])
    assert str(caught.value) == f"No such object: {ann.uuid}"


def waiting_for_locks() -> int:
    """How many other sessions on this test database wait for a row lock right now (PostgreSQL)."""
    with connection.cursor() as cursor:
        # Within a transaction PostgreSQL shows the activity as it was at its first look, unless told to look again.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite runs one writing transaction at a time: nothing can overlap"
)
def test_two_requests_changing_one_contacts_groups_at_once_both_take_effect(live_server, workspace, people, testers):
    ann = people["Ann"]
    reporters, survey = make_group(workspace, "Reporters", [ann]), make_group(workspace, "Survey", [ann])
    temba = client_for(live_server, workspace)
    calls = [
        lambda: temba.bulk_add_contacts([str(ann.uuid)], group="Testers"),
        lambda: temba.bulk_remove_contacts([str(ann.uuid)], group="Survey"),
    ]
    failures = []

    def call(action):
        try:
            action()
        except Exception as exc:  # reported by the assertion below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=call, args=(action,)) for action in calls]
    # Hold Ann's row until both requests are in flight, each waiting for it: they really overlap.
    with transaction.atomic():
        list(Contact.objects.select_for_update().filter(pk=ann.pk))
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20  # not stuck: both requests arrive within seconds
        while waiting_for_locks() < len(calls) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert waiting_for_locks() == len(calls)
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    assert set(ann.groups.values_list("name", flat=True)) == {"Reporters", "Testers"}
    assert (members(reporters), members(survey), members(testers)) == ({"Ann"}, set(), {"Ann"})
