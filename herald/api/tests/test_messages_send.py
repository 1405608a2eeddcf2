"""POST /api/v2/messages.json: one message to one contact, through the broadcasts' sending pipeline.

Re-expresses the POST part of `temba/api/v2/tests/test_messages.py::MessagesEndpointTest::test_endpoint` (RapidPro's
`MsgWriteSerializer`, `temba/api/v2/serializers.py`), with Herald's deliberate differences (docs/COMPATIBILITY.md,
C24) and the bad input the issue lists.
"""

import pytest
from temba_client.exceptions import TembaBadRequestError
from temba_client.v2 import TembaClient

from herald.api.idempotency import REPLAYED_HEADER
from herald.api.v2.base import BLOCKER_FLAGGED
from herald.contacts.models import ContactStatus
from herald.msgs.models import Msg, MsgStatus
from herald.testing.factories import create_user_token, make_broadcast, make_contact, make_media, make_msg
from herald.testing.fixtures import poster
from herald.testing.gateway import gateway_channel

URL = "/api/v2/messages.json"
post = poster(URL)


@pytest.fixture
def channel(workspace, gateway):
    return gateway_channel(workspace, gateway.url, name="Test Channel")


@pytest.fixture
def joe(workspace):
    return make_contact(workspace, "Joe Blow", ["tel:+250788123123"])


def refused(response, errors: dict) -> None:
    """A 400 with exactly `errors`, and no message written."""
    assert response.status_code == 400, response.content
    assert response.json() == errors
    assert not Msg.objects.exists()


def as_listed(admin, uuid: str) -> dict:
    (listed,) = admin.get(URL, {"uuid": uuid}).json()["results"]
    return listed


# Access


def test_roles(assert_roles, channel, joe):
    body = {"contact": str(joe.uuid), "text": "Hi"}
    assert_roles(URL, post={"anon": (body, 403), "agent": (body, 403), "editor": (body, 201), "admin": (body, 201)})
    assert Msg.objects.count() == 2


@pytest.mark.parametrize("method", ["delete", "put", "patch"])
def test_other_writes_are_not_allowed(admin, method):
    response = getattr(admin, method)(URL, {}, format="json")
    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}


# Sending


def test_text_only_is_queued_on_the_contacts_channel_and_answered_as_listed(admin, channel, joe):
    response = post(admin, {"contact": str(joe.uuid), "text": "Interesting"})
    assert response.status_code == 201, response.content
    msg = Msg.objects.get()
    body = response.json()
    assert body == {
        "uuid": str(msg.uuid),
        "contact": {"uuid": str(joe.uuid), "name": "Joe Blow"},
        "urn": "tel:+250788123123",
        "channel": {"uuid": str(channel.uuid), "name": "Test Channel"},
        "direction": "out",
        "type": "text",
        "status": "queued",
        "archived": False,
        "visibility": "visible",
        "text": "Interesting",
        "labels": [],
        "flow": None,
        "attachments": [],
        "quick_replies": [],
        "created_on": body["created_on"],
        "sent_on": None,
        "modified_on": body["modified_on"],
        "media": None,
        "id": msg.id,
        "broadcast": None,
        "failed_reason": None,  # docs/COMPATIBILITY.md, C44
        "failed_detail": None,
    }
    assert as_listed(admin, str(msg.uuid)) == body
    assert (msg.broadcast_id, msg.status, msg.msg_count) == (None, MsgStatus.QUEUED, 1)


def test_the_message_goes_out_through_the_channel(
    admin, channel, joe, gateway, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(admin, {"contact": str(joe.uuid), "text": "Your code is 1234"})
    assert response.status_code == 201, response.content
    (request,) = gateway.requests
    assert (request.json["to"], request.json["text"]) == ("+250788123123", "Your code is 1234")
    assert as_listed(admin, response.json()["uuid"])["status"] == "wired"


def test_the_contact_may_be_named_by_urn(admin, channel, joe):
    response = post(admin, {"contact": "tel:+250788123123", "text": "Hi"})
    assert response.status_code == 201, response.content
    assert response.json()["contact"] == {"uuid": str(joe.uuid), "name": "Joe Blow"}


# As RapidPro: mailroom creates a single message without an expressions context (web/msg/send.go, nyaruka/mailroom).
def test_text_is_sent_as_written(admin, channel, joe):
    response = post(admin, {"contact": str(joe.uuid), "text": 'Hi @contact.name, @(upper("x"))'})
    assert response.status_code == 201, response.content
    assert response.json()["text"] == 'Hi @contact.name, @(upper("x"))'


def test_an_anonymous_workspace_is_answered_without_the_urn_and_refuses_urn_lookups(admin, channel, joe, workspace):
    workspace.is_anonymous = True
    workspace.save()
    response = post(admin, {"contact": str(joe.uuid), "text": "Hi"})
    assert response.status_code == 201, response.content
    assert (response.json()["urn"], response.json()["status"]) == (None, "queued")
    response = post(admin, {"contact": "tel:+250788123123", "text": "Hi"})
    assert response.status_code == 400
    assert response.json() == {"contact": ["URN lookups not allowed for anonymous organizations"]}
    assert Msg.objects.count() == 1


def test_a_contact_no_channel_reaches_gets_a_failed_message(admin, channel, workspace):
    billy = make_contact(workspace, "Billy")
    response = post(admin, {"contact": str(billy.uuid), "text": "well?"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["channel"], body["urn"], body["status"]) == (None, None, "failed")
    assert Msg.objects.get().failed_reason == "D"


def test_segments_are_counted_as_for_a_broadcast(admin, channel, joe):
    assert post(admin, {"contact": str(joe.uuid), "text": "x" * 161}).status_code == 201
    assert Msg.objects.get().msg_count == 2


def test_attachments_by_uuid_or_as_listed(admin, channel, joe, workspace):
    media = make_media(workspace)
    attachment = f"image/jpeg:{media.url}"
    for reference in (str(media.uuid), attachment):
        response = post(admin, {"contact": str(joe.uuid), "attachments": [reference]})
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["text"], body["attachments"], body["media"]) == (
            "",
            [{"content_type": "image/jpeg", "url": media.url}],
            attachment,
        )


def test_quick_replies_are_normalised(admin, channel, joe):
    replies = [
        {"text": "Red"},
        {"text": "Green", "extra": "Like grass"},
        {"type": "form", "text": "Book now", "extra": "123456"},
        {"type": "url", "text": "Visit us", "extra": "https://example.com"},
    ]
    response = post(
        admin, {"contact": str(joe.uuid), "text": "What is your preferred color?", "quick_replies": replies}
    )
    assert response.status_code == 201, response.content
    assert response.json()["quick_replies"] == [
        {"type": "text", "text": "Red"},
        {"type": "text", "text": "Green", "extra": "Like grass"},
        {"type": "form", "text": "Book now", "extra": "123456"},
        {"type": "url", "text": "Visit us", "extra": "https://example.com"},
    ]


# Refused, nothing written


def test_empty_body_needs_a_contact(admin, channel):
    refused(post(admin, {}), {"contact": ["This field is required."]})


def test_text_or_attachments_are_needed(admin, channel, joe):
    refused(post(admin, {"contact": str(joe.uuid)}), {"non_field_errors": ["Must provide either text or attachments."]})
    refused(post(admin, {"contact": str(joe.uuid), "attachments": []}),
            {"non_field_errors": ["Must provide either text or attachments."]})  # fmt: skip
    refused(post(admin, {"contact": str(joe.uuid), "text": ""}), {"text": ["This field may not be blank."]})


def test_text_over_4096_characters(admin, channel, joe):
    refused(
        post(admin, {"contact": str(joe.uuid), "text": "x" * 4097}),
        {"text": ["Ensure this field has no more than 4096 characters."]},
    )


@pytest.mark.parametrize("reference", ["xxxx", "67ffe746-8771-40fb-89c1-5388e7ddd439"])
def test_unknown_attachments(admin, channel, joe, reference):
    refused(
        post(admin, {"contact": str(joe.uuid), "text": "Hi", "attachments": [reference]}),
        {"attachments": [f"No such object: {reference}"]},
    )


def test_another_workspaces_media_is_no_such_object(admin, channel, joe, other_workspace):
    theirs = make_media(other_workspace)
    refused(
        post(admin, {"contact": str(joe.uuid), "attachments": [str(theirs.uuid)]}),
        {"attachments": [f"No such object: {theirs.uuid}"]},
    )


def test_more_than_10_attachments(admin, channel, joe, workspace):
    media = make_media(workspace)
    refused(
        post(admin, {"contact": str(joe.uuid), "attachments": [str(media.uuid)] * 11}),
        {"attachments": ["Ensure this field has no more than 10 elements."]},
    )


def test_bad_quick_replies(admin, channel, joe):
    body = {"contact": str(joe.uuid), "text": "Book an appointment"}
    refused(
        post(admin, {**body, "quick_replies": [{"type": "form", "text": "Book now"}]}),
        {"quick_replies": {"0": ["Quick replies of type 'form' require 'text' and 'extra' values."]}},
    )
    refused(
        post(admin, {**body, "quick_replies": [{"text": f"Reply {i}"} for i in range(11)]}),
        {"quick_replies": ["Ensure this field has no more than 10 elements."]},
    )


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (None, "This field may not be null."),
        (123, "No such object: 123"),
        (["x"], "Must be a string or integer"),
        ({"uuid": "x"}, "Must be a string or integer"),
    ],
)
def test_a_contact_that_is_not_a_reference(admin, channel, value, error):
    refused(post(admin, {"contact": value, "text": "Hi"}), {"contact": [error]})


def test_deleted_and_other_workspaces_contacts_are_no_such_object(admin, channel, workspace, other_workspace):
    gone = make_contact(workspace, "Gone", ["tel:+250788000001"], is_active=False)
    theirs = make_contact(other_workspace, "Theirs", ["tel:+250788000002"])
    for reference in (str(gone.uuid), str(theirs.uuid), "tel:+250788000001", "tel:+250788000002"):
        refused(post(admin, {"contact": reference, "text": "Hi"}), {"contact": [f"No such object: {reference}"]})


# docs/COMPATIBILITY.md, C24: RapidPro writes a failed message for these.
@pytest.mark.parametrize("status", [ContactStatus.BLOCKED, ContactStatus.STOPPED, ContactStatus.ARCHIVED])
def test_a_contact_that_isnt_active_is_refused(admin, channel, workspace, status):
    contact = make_contact(workspace, "Opted out", ["tel:+250788000003"], status=status)
    label = dict(ContactStatus.choices)[status]
    refused(
        post(admin, {"contact": str(contact.uuid), "text": "Hi"}),
        {"contact": [f"Contact is {label}: it can't be sent messages."]},
    )


def test_a_flagged_workspace_sends_nothing(admin, channel, joe, workspace):
    workspace.is_flagged = True
    workspace.save()
    refused(post(admin, {"contact": str(joe.uuid), "text": "Hi"}), {"non_field_errors": [BLOCKER_FLAGGED]})


def test_a_uuid_in_the_query_changes_nothing_and_sends_anew(admin, channel, joe):
    first = post(admin, {"contact": str(joe.uuid), "text": "One"}).json()
    second = post(admin, {"contact": str(joe.uuid), "text": "Two"}, query=f"?uuid={first['uuid']}")
    assert second.status_code == 201
    assert sorted(Msg.objects.values_list("text", flat=True)) == ["One", "Two"]


# Idempotency-Key, as on the other POST endpoints


def test_a_retry_with_the_same_idempotency_key_sends_once(admin, channel, joe):
    body = {"contact": str(joe.uuid), "text": "Once"}
    first = post(admin, body, HTTP_IDEMPOTENCY_KEY="reply-1")
    again = post(admin, body, HTTP_IDEMPOTENCY_KEY="reply-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again[REPLAYED_HEADER] == "true"
    assert Msg.objects.count() == 1
    other = post(admin, {**body, "text": "Twice"}, HTTP_IDEMPOTENCY_KEY="reply-1")
    assert other.status_code == 422
    assert Msg.objects.count() == 1


# A single message and a broadcast side by side


def test_a_single_message_is_listed_with_the_contacts_messages_and_no_broadcast(admin, channel, joe, workspace):
    broadcast = make_broadcast(workspace, contacts=[joe])
    earlier = make_msg(joe, broadcast=broadcast, channel=channel)
    sent = post(admin, {"contact": str(joe.uuid), "text": "Just you"}).json()
    listed = admin.get(URL, {"contact": str(joe.uuid)}).json()["results"]
    assert [(m["uuid"], m["broadcast"]) for m in listed] == [(sent["uuid"], None), (str(earlier.uuid), broadcast.id)]


# The official client


@pytest.mark.django_db(transaction=True)
def test_official_client_create_message(live_server, workspace, joe, gateway, eager_tasks):
    channel = gateway_channel(workspace, gateway.url)
    _, key = create_user_token(workspace, "editor")
    temba = TembaClient(live_server.url, key)
    message = temba.create_message(str(joe.uuid), "Hello from the client", [])
    assert message.text == "Hello from the client"
    assert (message.contact.uuid, message.channel.uuid) == (str(joe.uuid), str(channel.uuid))
    assert message.status in ("queued", "wired")
    assert [r.json["text"] for r in gateway.requests] == ["Hello from the client"]
    with pytest.raises(TembaBadRequestError) as refusal:
        temba.create_message(str(joe.uuid), None, [])
    assert refusal.value.errors == {"non_field_errors": ["Must provide either text or attachments."]}
    assert Msg.objects.count() == 1
