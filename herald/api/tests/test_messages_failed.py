"""GET /api/v2/messages.json: why a message failed (`failed_reason`, `failed_detail`) and `?status=`, Herald's
additions (docs/COMPATIBILITY.md, C44 and C45)."""

import pytest

from herald.msgs.models import FailedReason, MsgStatus
from herald.testing.factories import make_broadcast, make_contact, make_msg
from herald.testing.fixtures import results, uuids

URL = "/api/v2/messages.json"
RAPIDPROS_FIELDS = [
    "uuid", "contact", "urn", "channel", "direction", "type", "status", "archived", "visibility", "text", "labels",
    "flow", "attachments", "quick_replies", "created_on", "sent_on", "modified_on", "media", "id", "broadcast",
]  # fmt: skip


STATUS_NAMES = ["queued", "handled", "wired", "sent", "delivered", "read", "errored", "failed"]


@pytest.fixture
def joe(workspace):
    return make_contact(workspace, "Joe Blow", ["tel:+250788123123"])


# Why a message failed


def test_the_new_fields_come_after_rapidpros_in_their_order(admin, joe):
    make_msg(joe)
    assert list(results(admin.get(URL))[0]) == [*RAPIDPROS_FIELDS, "failed_reason", "failed_detail"]


@pytest.mark.parametrize(
    ("reason", "name"),
    [
        (FailedReason.CONTACT, "contact"),
        (FailedReason.NO_DESTINATION, "no_destination"),
        (FailedReason.SUSPENDED, "suspended"),
        (FailedReason.RETRIES, "retries"),
        (FailedReason.PERMANENT, "refused"),
        (FailedReason.CHANNEL_REMOVED, "channel_removed"),
        (FailedReason.TOO_LONG, "too_long"),
    ],
)
def test_each_reason_has_a_stable_name_and_its_label_when_nothing_was_recorded(admin, joe, reason, name):
    make_msg(joe, status=MsgStatus.FAILED, failed_reason=reason)
    item = results(admin.get(URL))[0]
    assert (item["status"], item["failed_reason"], item["failed_detail"]) == ("failed", name, reason.label)


def test_every_reason_is_named_as_an_identifier(admin, joe):
    for reason in FailedReason:
        make_msg(joe, status=MsgStatus.FAILED, failed_reason=reason)
    names = [item["failed_reason"] for item in results(admin.get(URL))]
    assert len(set(names)) == len(FailedReason)
    assert all(name.isidentifier() and name == name.lower() for name in names)


def test_the_detail_is_what_was_recorded(admin, joe):
    make_msg(joe, status=MsgStatus.FAILED, failed_reason=FailedReason.PERMANENT, error_detail="HTTP 400: bad number")
    item = results(admin.get(URL))[0]
    assert (item["failed_reason"], item["failed_detail"]) == ("refused", "HTTP 400: bad number")


def test_null_unless_failed_even_with_an_error_recorded(admin, joe):
    make_msg(joe, status=MsgStatus.ERRORED, error_detail="timed out", error_count=1)
    # Delivered after all: the report wins and the reason is cleared (msgs/status.py), the old error stays stored.
    make_msg(joe, status=MsgStatus.DELIVERED, error_detail="timed out", error_count=4)
    assert [(i["failed_reason"], i["failed_detail"]) for i in results(admin.get(URL))] == [(None, None), (None, None)]


def test_a_message_sent_to_a_contact_no_channel_reaches_says_why(admin, workspace, eager_tasks):
    billy = make_contact(workspace, "Billy")
    response = admin.post(URL, {"contact": str(billy.uuid), "text": "well?"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["failed_reason"]) == ("failed", "no_destination")
    assert body["failed_detail"] == "no channel can send to any of the contact's URNs"
    assert results(admin.get(URL, {"uuid": body["uuid"]})) == [body]


# ?status=


def test_status_filter_takes_each_name_messages_show(admin, joe):
    made = {code: str(make_msg(joe, status=code).uuid) for code in MsgStatus if code != MsgStatus.PENDING}
    listed = results(admin.get(URL))
    shown = {item["status"] for item in listed}
    assert shown == set(STATUS_NAMES)
    for name in shown:
        assert uuids(admin.get(URL, {"status": name})) == [item["uuid"] for item in listed if item["status"] == name]
    # A paused broadcast's held messages show as what they were (docs/COMPATIBILITY.md, C47).
    queued = {made[MsgStatus.INITIALIZING], made[MsgStatus.QUEUED], made[MsgStatus.HELD_QUEUED]}
    assert set(uuids(admin.get(URL, {"status": "queued"}))) == queued
    assert set(uuids(admin.get(URL, {"status": "errored"}))) == {made[MsgStatus.ERRORED], made[MsgStatus.HELD_ERRORED]}
    assert uuids(admin.get(URL, {"status": "Failed"})) == [made[MsgStatus.FAILED]]
    assert uuids(admin.get(URL, {"status": ""})) == uuids(admin.get(URL))


def test_status_combines_with_broadcast_folder_contact_and_dates(admin, workspace, joe):
    ann = make_contact(workspace, "Ann", ["tel:+250788123124"])
    broadcast, other = make_broadcast(workspace), make_broadcast(workspace)
    failed = make_msg(joe, broadcast=broadcast, status=MsgStatus.FAILED, failed_reason=FailedReason.RETRIES)
    make_msg(ann, broadcast=broadcast, status=MsgStatus.DELIVERED)
    make_msg(ann, broadcast=other, status=MsgStatus.FAILED)
    assert uuids(admin.get(URL, {"broadcast": broadcast.id, "status": "failed"})) == [str(failed.uuid)]
    assert uuids(admin.get(URL, {"broadcast": str(broadcast.uuid), "status": "failed"})) == [str(failed.uuid)]
    assert uuids(admin.get(URL, {"contact": str(joe.uuid), "status": "failed"})) == [str(failed.uuid)]
    assert results(admin.get(URL, {"folder": "sent", "status": "failed"})) == []
    after = {"status": "failed", "after": failed.created_on.isoformat()}
    assert str(failed.uuid) in uuids(admin.get(URL, after))


def test_an_unknown_status_is_a_400_naming_it_and_the_accepted_ones(admin, joe):
    make_msg(joe)
    response = admin.get(URL, {"status": "pending"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"Param 'status': pending is not a message status; use one of {', '.join(STATUS_NAMES)}."
    }


def test_the_schema_declares_the_filter_and_the_fields(admin):
    schema = admin.get("/api/v2/openapi.json").json()
    (parameter,) = [p for p in schema["paths"]["/api/v2/messages.json"]["get"]["parameters"] if p["name"] == "status"]
    assert sorted(parameter["schema"]["enum"]) == sorted(STATUS_NAMES)
    item = next(s for s in schema["components"]["schemas"].values() if "failed_reason" in s.get("properties", {}))
    named = [ref["$ref"].rsplit("/", 1)[1] for ref in item["properties"]["failed_reason"]["oneOf"]]
    enums = [value for name in named for value in schema["components"]["schemas"][name]["enum"]]
    assert {"refused", "no_destination", "retries", None} <= set(enums)
    assert list(item["properties"])[-2:] == ["failed_reason", "failed_detail"]
