"""GET /api/v2/messages.json: a broadcast's messages, the item shape, folders and the other filters."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from herald.channels.models import Channel
from herald.contacts.models import Contact
from herald.msgs.models import Msg, MsgStatus
from herald.testing.factories import make_broadcast, make_contact, make_msg
from herald.testing.fixtures import results, uuids

URL = "/api/v2/messages.json"
T0 = datetime(2024, 5, 1, 10, 0, 1, 1, tzinfo=UTC)


@pytest.fixture
def joe(workspace):
    return make_contact(workspace, "Joe Blow", ["tel:+250788123123"])


# Access


def test_roles(assert_roles):
    assert_roles(URL, get={"anon": 403, "agent": 403, "editor": 200, "admin": 200})


@pytest.mark.parametrize("method", ["delete", "put", "patch"])
def test_other_writes_are_not_allowed(admin, method):
    response = getattr(admin, method)(URL, {}, format="json")
    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}


def test_own_throttle_bucket(workspace, admin):
    workspace.api_rates = {"v2.messages": "1/hour"}
    workspace.save()
    assert admin.get(URL).status_code == 200
    assert admin.get(URL).status_code == 429
    assert admin.get("/api/v2/broadcasts.json").status_code == 200


# Messages of a broadcast


# docs/COMPATIBILITY.md, C7: RapidPro takes the id only.
def test_broadcast_filter_by_id_or_uuid(admin, workspace, joe):
    ann = make_contact(workspace, "Ann", ["tel:+250788123124"])
    broadcast, other = make_broadcast(workspace), make_broadcast(workspace)
    m1 = make_msg(joe, broadcast=broadcast, created_on=T0)
    m2 = make_msg(ann, broadcast=broadcast, created_on=T0 + timedelta(seconds=1))
    make_msg(joe, broadcast=other, created_on=T0 + timedelta(seconds=2))
    make_msg(joe, created_on=T0 + timedelta(seconds=3))
    expected = [str(m2.uuid), str(m1.uuid)]
    assert uuids(admin.get(URL, {"broadcast": broadcast.id})) == expected
    assert uuids(admin.get(URL, {"broadcast": str(broadcast.uuid)})) == expected
    assert uuids(admin.get(URL, {"broadcast": str(broadcast.uuid).upper()})) == expected
    assert uuids(admin.get(URL, {"broadcast": "99999999999999999999999"})) == []


# docs/COMPATIBILITY.md, C1: RapidPro answers this with a 500.
def test_broadcast_filter_garbage_is_400(admin):
    response = admin.get(URL, {"broadcast": "xyz"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Param 'broadcast': xyz is not a broadcast id or UUID."}


def test_other_workspace_broadcast_lists_nothing(admin, other_workspace):
    theirs = make_broadcast(other_workspace)
    make_msg(make_contact(other_workspace, "X"), broadcast=theirs)
    assert results(admin.get(URL, {"broadcast": theirs.id})) == []
    assert results(admin.get(URL, {"broadcast": str(theirs.uuid)})) == []
    assert results(admin.get(URL)) == []


@pytest.mark.parametrize("other", ["folder", "label", "contact"])
def test_broadcast_is_exclusive(admin, other):
    response = admin.get(URL, {"broadcast": 1, other: "x"})
    assert response.status_code == 400
    assert response.json() == {"detail": "You may only specify one of the contact, folder, label, broadcast parameters"}


# The item


def test_broadcast_message_item_exactly(admin, workspace, joe):
    channel = Channel.objects.create(workspace=workspace, channel_type="EX", name="Vonage", schemes=["tel"])
    broadcast = make_broadcast(workspace)
    sent_on = datetime(2024, 5, 1, 10, 0, 3, 120000, tzinfo=UTC)
    msg = make_msg(
        joe,
        "Hello Joe Blow! Burger or pizza?",
        broadcast=broadcast,
        channel=channel,
        status=MsgStatus.SENT,
        quick_replies=[{"type": "text", "text": "Burger", "extra": "With cheese"}, {"type": "text", "text": "Pizza"}],
        created_on=T0,
        sent_on=sent_on,
        modified_on=sent_on,
    )
    assert results(admin.get(URL, {"broadcast": broadcast.id})) == [
        {
            "uuid": str(msg.uuid),
            "contact": {"uuid": str(joe.uuid), "name": "Joe Blow"},
            "urn": "tel:+250788123123",
            "channel": {"uuid": str(channel.uuid), "name": "Vonage"},
            "direction": "out",
            "type": "text",
            "status": "sent",
            "archived": False,
            "visibility": "visible",
            "text": "Hello Joe Blow! Burger or pizza?",
            "labels": [],
            "flow": None,
            "attachments": [],
            "quick_replies": [
                {"type": "text", "text": "Burger", "extra": "With cheese"},
                {"type": "text", "text": "Pizza"},
            ],
            "created_on": "2024-05-01T10:00:01.000001Z",
            "sent_on": "2024-05-01T10:00:03.120000Z",
            "modified_on": "2024-05-01T10:00:03.120000Z",
            "media": None,
            "id": msg.id,
            "broadcast": broadcast.id,
            "failed_reason": None,
            "failed_detail": None,
        }
    ]


def test_item_with_attachments_display_and_no_channel(admin, workspace):
    ann = make_contact(workspace, "Ann", ["ext:ann#Annie"])
    make_msg(ann, attachments=["image/jpeg:http://x/a.jpg", "geo:-2.5,30.1"])
    item = results(admin.get(URL))[0]
    assert item["urn"] == "ext:ann#Annie"
    assert item["channel"] is None
    assert item["broadcast"] is None
    assert item["sent_on"] is None
    assert item["attachments"] == [
        {"content_type": "image/jpeg", "url": "http://x/a.jpg"},
        {"content_type": "geo", "url": "-2.5,30.1"},
    ]
    assert item["media"] == "image/jpeg:http://x/a.jpg"


def test_urn_null_without_urn_or_when_anonymous(admin, workspace, joe):
    nobody = make_contact(workspace, "No URN")
    make_msg(nobody, created_on=T0)
    make_msg(joe, created_on=T0 + timedelta(seconds=1))
    assert [item["urn"] for item in results(admin.get(URL))] == ["tel:+250788123123", None]
    workspace.is_anonymous = True
    workspace.save()
    items = results(admin.get(URL))
    assert [item["urn"] for item in items] == [None, None]
    assert items[0]["contact"] == {"uuid": str(joe.uuid), "name": "Joe Blow"}


@pytest.mark.parametrize(
    ("status", "name"),
    [
        ("I", "queued"), ("Q", "queued"), ("H", "handled"), ("W", "wired"), ("S", "sent"), ("D", "delivered"),
        ("R", "read"), ("E", "errored"), ("F", "failed"),
    ],
)  # fmt: skip
def test_status_names(admin, joe, status, name):
    make_msg(joe, status=status)
    assert results(admin.get(URL))[0]["status"] == name


def test_incoming_archived_message(admin, joe):
    make_msg(joe, direction="I", status=MsgStatus.HANDLED, visibility="A")
    item = results(admin.get(URL))[0]
    assert (item["direction"], item["archived"], item["visibility"]) == ("in", True, "archived")


# Which messages


def test_base_set_hides_deleted_and_unhandled(admin, workspace, other_workspace, joe):
    shown = make_msg(joe, created_on=T0)
    archived = make_msg(joe, visibility="A", created_on=T0 + timedelta(seconds=1))
    make_msg(joe, visibility="D")
    make_msg(joe, direction="I", status=MsgStatus.PENDING)
    make_msg(make_contact(other_workspace, "X"))
    assert uuids(admin.get(URL)) == [str(archived.uuid), str(shown.uuid)]


def test_filter_by_uuid_id_and_contact(admin, workspace, joe):
    ann = make_contact(workspace, "Ann")
    m1, m2 = make_msg(joe), make_msg(ann)
    assert uuids(admin.get(URL, {"uuid": str(m1.uuid)})) == [str(m1.uuid)]
    assert uuids(admin.get(URL, {"id": m2.id})) == [str(m2.uuid)]
    assert uuids(admin.get(URL, {"contact": str(ann.uuid)})) == [str(m2.uuid)]
    assert results(admin.get(URL, {"contact": "not-a-uuid"})) == []
    assert admin.get(URL, {"id": "xyz"}).json() == {"detail": "Value for id must be an integer"}
    assert admin.get(URL, {"uuid": "xyz"}).json() == {"detail": "Param 'uuid': xyz is not a valid UUID."}


# temba/api/v2/tests/test_messages.py::MessagesEndpointTest::test_endpoint: RapidPro's `contact` filter looks up
# active contacts only (temba/api/v2/views.py, MessagesEndpoint.filter_queryset).
def test_contact_filter_of_a_deleted_contact_lists_nothing(admin, workspace):
    gone = make_contact(workspace, "Gone", ["tel:+250788000009"])
    kept = make_msg(gone)
    assert uuids(admin.get(URL, {"contact": str(gone.uuid)})) == [str(kept.uuid)]
    Contact.objects.filter(id=gone.id).update(is_active=False)
    assert results(admin.get(URL, {"contact": str(gone.uuid)})) == []
    assert uuids(admin.get(URL)) == [str(kept.uuid)]  # the message itself is still listed, as in RapidPro


def test_label_lists_nothing(admin, joe):
    make_msg(joe)
    assert results(admin.get(URL, {"label": "Important"})) == []


def test_before_and_after_inclusive(admin, joe):
    m1, m2, m3 = (make_msg(joe, created_on=T0 + timedelta(minutes=i)) for i in range(3))
    assert uuids(admin.get(URL, {"before": "2024-05-01T10:01:01.000001Z"})) == [str(m2.uuid), str(m1.uuid)]
    assert uuids(admin.get(URL, {"after": "2024-05-01T10:01:01.000001Z"})) == [str(m3.uuid), str(m2.uuid)]
    assert admin.get(URL, {"after": "nope"}).status_code == 400


def test_folders(admin, joe):
    def msg(**fields):
        return str(make_msg(joe, **fields).uuid)

    inbox = msg(direction="I", status=MsgStatus.HANDLED)
    archived = msg(direction="I", status=MsgStatus.HANDLED, visibility="A")
    outbox = [msg(status=s) for s in (MsgStatus.INITIALIZING, MsgStatus.QUEUED, MsgStatus.ERRORED)]
    sent = [msg(status=s, sent_on=T0) for s in (MsgStatus.WIRED, MsgStatus.SENT, MsgStatus.DELIVERED, MsgStatus.READ)]
    failed = msg(status=MsgStatus.FAILED)
    msg(status=MsgStatus.SENT, visibility="A")  # archived outgoing: in no folder

    def folder(name):
        return set(uuids(admin.get(URL, {"folder": name})))

    assert folder("inbox") == {inbox}
    assert folder("INBOX") == {inbox}
    assert folder("archived") == {archived}
    assert folder("outbox") == set(outbox)
    assert folder("Sent") == set(sent)
    assert folder("failed") == {failed}
    assert folder("flows") == set()
    assert folder("nonsense") == set()


def test_sent_folder_ordered_by_sent_on(admin, joe):
    early = make_msg(joe, status=MsgStatus.SENT, created_on=T0, sent_on=T0 + timedelta(minutes=5))
    late = make_msg(joe, status=MsgStatus.SENT, created_on=T0 + timedelta(minutes=1), sent_on=T0 + timedelta(minutes=2))
    wired = make_msg(joe, status=MsgStatus.WIRED, created_on=T0 + timedelta(minutes=3))  # not yet stamped
    assert uuids(admin.get(URL)) == [str(wired.uuid), str(late.uuid), str(early.uuid)]
    assert uuids(admin.get(URL, {"folder": "sent"})) == [str(early.uuid), str(wired.uuid), str(late.uuid)]


# Paging and query counts


def test_pagination_walks_a_broadcast_once(admin, workspace):
    broadcast = make_broadcast(workspace)
    contacts = [make_contact(workspace, f"C{i}", [f"ext:c{i}"]) for i in range(260)]
    Msg.objects.bulk_create(
        Msg(workspace=workspace, contact=c, broadcast=broadcast, text="Hi", created_on=T0 + timedelta(seconds=i // 7))
        for i, c in enumerate(contacts)
    )
    expected = list(Msg.objects.order_by("-created_on", "-id").values_list("id", flat=True))
    url, seen = f"{URL}?broadcast={broadcast.uuid}", []
    while url:
        body = admin.get(url).json()
        seen += [item["id"] for item in body["results"]]
        url = body["next"]
        assert url is None or (f"broadcast={broadcast.uuid}" in url and url.startswith("http://testserver/"))
    assert seen == expected


def test_sent_folder_pages_through_messages_without_sent_on(admin, workspace, joe):
    Msg.objects.bulk_create(
        Msg(workspace=workspace, contact=joe, status=MsgStatus.WIRED, created_on=T0 + timedelta(seconds=i))
        for i in range(260)
    )
    first = admin.get(URL, {"folder": "sent"}).json()
    second = admin.get(first["next"]).json()
    assert len(first["results"]) + len(second["results"]) == 260
    assert second["next"] is None


def test_invalid_cursor(admin):
    response = admin.get(URL, {"cursor": "garbage"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}


def test_a_page_costs_the_same_queries_whatever_it_holds(admin, workspace, django_assert_max_num_queries):
    channel = Channel.objects.create(workspace=workspace, channel_type="EX", name="Vonage")
    broadcast = make_broadcast(workspace)

    def add(count):
        for i in range(count):
            contact = make_contact(workspace, f"C{i}", [f"ext:{count}-{i}"])
            make_msg(contact, broadcast=broadcast, channel=channel)

    add(1)
    with CaptureQueriesContext(connection) as one:
        assert len(results(admin.get(URL))) == 1
    add(20)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(results(admin.get(URL))) == 21
