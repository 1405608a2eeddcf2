"""The official Python client (`rapidpro-python`, `temba_client.v2.TembaClient`) against a live Herald.

Herald runs in pytest-django's `live_server` (a real HTTP server thread on 127.0.0.1, see `--liveserver` in
pyproject.toml, on a database that really commits), and every call goes through the client exactly as a
RapidPro user's script makes it: its URLs, headers, JSON encoding, paging and error classes.
"""

import json
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from temba_client.exceptions import (
    TembaBadRequestError,
    TembaNoSuchObjectError,
    TembaRateExceededError,
    TembaTokenError,
)
from temba_client.v2 import TembaClient
from temba_client.v2.types import Broadcast, Contact, Field, Group, Message, Org

from herald.channels.registry import create_channel
from herald.msgs.models import FailedReason
from herald.testing.factories import create_user_token, make_broadcast, make_contact, make_group

PAGE_SIZE = 250


# Sending runs inside the server's request thread, so nothing is left in a broker queue after a test.
pytestmark = pytest.mark.usefixtures("eager_tasks")


def client_for(live_server, workspace, role: str = "admin") -> TembaClient:
    _, key = create_user_token(workspace, role)
    return TembaClient(live_server.url, key)


@pytest.fixture
def temba(live_server, workspace) -> TembaClient:
    return client_for(live_server, workspace)


def made_over_time(workspace, count: int) -> tuple[datetime, list]:
    """`count` broadcasts made directly, one a second from a day ago, oldest first: (first created_on, rows)."""
    start = (timezone.now() - timedelta(days=1)).replace(microsecond=123456)
    rows = [make_broadcast(workspace, f"Hello {i}", created_on=start + timedelta(seconds=i)) for i in range(count)]
    return start, rows


def uuids(objects) -> list[str]:
    return [str(o.uuid) for o in objects]


def test_live_server_is_on_loopback(live_server):
    assert live_server.url.startswith("http://127.0.0.1:")


# Broadcasts


def test_create_broadcast_returns_a_parsed_broadcast(temba, workspace):
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"])
    team = make_group(workspace, "Team", [ann])

    sent = temba.create_broadcast(
        "Hello @contact.name", urns=["tel:+250788222222"], contacts=[str(ann.uuid)], groups=[str(team.uuid)]
    )

    assert isinstance(sent, Broadcast)
    assert uuid.UUID(sent.uuid)
    assert sent.text == {"eng": "Hello @contact.name"}
    assert sent.urns == ["tel:+250788222222"]
    assert [(c.uuid, c.name) for c in sent.contacts] == [(str(ann.uuid), "Ann")]
    assert [(g.uuid, g.name) for g in sent.groups] == [(str(team.uuid), "Team")]
    assert sent.status in ("pending", "queued", "started", "completed")
    assert isinstance(sent.created_on, datetime)
    assert abs(sent.created_on - timezone.now()) < timedelta(minutes=5)

    listed = temba.get_broadcasts(uuid=sent.uuid).all()
    assert uuids(listed) == [sent.uuid]
    assert listed[0].created_on == sent.created_on


def test_get_broadcasts_all_walks_every_page(temba, workspace):
    _, rows = made_over_time(workspace, PAGE_SIZE + 12)

    fetched = temba.get_broadcasts().all()

    assert uuids(fetched) == uuids(reversed(rows))  # newest first, none twice, none missed
    newest = fetched[0]
    assert (newest.text, newest.created_on) == ({"eng": f"Hello {PAGE_SIZE + 11}"}, rows[-1].created_on)


def test_iterfetches_gives_a_cursor_that_resumes_where_it_stopped(temba, workspace):
    _, rows = made_over_time(workspace, PAGE_SIZE + 12)
    newest_first = uuids(reversed(rows))

    pages = temba.get_broadcasts().iterfetches()
    first_page = next(pages)
    cursor = pages.get_cursor()
    assert uuids(first_page) == newest_first[:PAGE_SIZE]
    assert cursor

    # A later run (a new client even) picks up from the saved cursor.
    resumed = [b for page in temba.get_broadcasts().iterfetches(resume_cursor=cursor) for b in page]
    assert uuids(resumed) == newest_first[PAGE_SIZE:]
    assert pages.get_cursor() is not None
    assert next(pages, None) is not None


def test_get_broadcasts_before_and_after(temba, workspace):
    start, rows = made_over_time(workspace, 6)
    at = [start + timedelta(seconds=i) for i in range(6)]

    # Both bounds are inclusive, to the microsecond the client sends.
    assert uuids(temba.get_broadcasts(before=at[1]).all()) == uuids([rows[1], rows[0]])
    assert uuids(temba.get_broadcasts(after=at[4]).all()) == uuids([rows[5], rows[4]])
    assert uuids(temba.get_broadcasts(after=at[2], before=at[3]).all()) == uuids([rows[3], rows[2]])
    assert temba.get_broadcasts(before=at[0] - timedelta(microseconds=1)).all() == []


def test_get_broadcasts_by_uuid_finds_one_or_none(temba, workspace):
    _, rows = made_over_time(workspace, 3)
    assert uuids(temba.get_broadcasts(uuid=str(rows[1].uuid)).all()) == [str(rows[1].uuid)]
    assert temba.get_broadcasts(uuid=str(uuid.uuid4())).first() is None


# Workspace, contacts, groups, fields


def test_get_org(temba, workspace):
    workspace.timezone = "Africa/Kigali"
    workspace.save()
    org = temba.get_org()
    assert isinstance(org, Org)
    assert (org.uuid, org.name, org.country) == (str(workspace.uuid), "Nyaruka", "RW")
    assert (org.languages, org.primary_language, org.anon) == (["eng", "fra", "kin"], "eng", False)
    assert org.timezone == "Africa/Kigali"


def test_contacts_fields_and_groups_round_trip(temba, workspace):
    field = temba.create_field("Nick name", "text")
    assert isinstance(field, Field)
    assert (field.key, field.name, field.type) == ("nick_name", "Nick name", "text")
    assert [(f.key, f.type) for f in temba.get_fields().all()] == [("nick_name", "text")]
    assert [f.key for f in temba.get_fields(key="nick_name").all()] == ["nick_name"]

    group = temba.create_group("Volunteers")
    assert isinstance(group, Group)
    assert (group.name, group.count, group.system) == ("Volunteers", 0, False)

    ann = temba.create_contact(
        name="Ann", language="fra", urns=["tel:0788111111"], fields={"nick_name": "Annie"}, groups=[group.uuid]
    )
    assert isinstance(ann, Contact)
    assert (ann.name, ann.language, ann.status) == ("Ann", "fra", "active")
    assert ann.urns == ["tel:+250788111111"]  # normalised with the workspace's country
    assert ann.fields == {"nick_name": "Annie"}
    assert [(g.uuid, g.name) for g in ann.groups] == [(group.uuid, "Volunteers")]
    assert isinstance(ann.created_on, datetime)
    assert isinstance(ann.modified_on, datetime)

    assert uuids(temba.get_contacts(uuid=ann.uuid).all()) == [ann.uuid]
    assert uuids(temba.get_contacts(urn="tel:+250788111111").all()) == [ann.uuid]
    assert uuids(temba.get_contacts(group=group.uuid).all()) == [ann.uuid]
    assert [(g.name, g.count) for g in temba.get_groups(name="Volunteers").all()] == [("Volunteers", 1)]

    # Updates find the contact by object (its UUID) or by URN, as the client decides.
    renamed = temba.update_contact(ann, name="Ann B", fields={"nick_name": "AB"})
    assert (renamed.uuid, renamed.name, renamed.fields) == (ann.uuid, "Ann B", {"nick_name": "AB"})
    by_urn = temba.update_contact("tel:+250788111111", language="eng")
    assert (by_urn.uuid, by_urn.name, by_urn.language) == (ann.uuid, "Ann B", "eng")

    temba.delete_contact(ann)
    assert temba.get_contacts(uuid=ann.uuid).all() == []
    assert uuids(temba.get_contacts(deleted=True).all()) == [ann.uuid]
    assert [(g.name, g.count) for g in temba.get_groups(uuid=group.uuid).all()] == [("Volunteers", 0)]


def test_typed_fields_created_updated_and_filled_through_the_client(temba, workspace):
    # RapidPro's test_fields.py creates `Age` as a number, then retypes it by key as a datetime.
    age = temba.create_field("Age", "number")
    assert (age.key, age.name, age.type) == ("age", "Age", "number")
    ann = temba.create_contact(name="Ann", fields={"age": "40.0"})
    assert ann.fields == {"age": "40"}
    with pytest.raises(TembaBadRequestError) as refused:
        temba.update_contact(ann, fields={"age": "forty"})
    assert refused.value.errors == {"fields": ["Value of 'age' must be a number."]}

    with pytest.raises(TembaBadRequestError) as refused:
        temba.update_field("age", "Real Age", "datetime")  # 40 is no date: refused, nothing changed
    assert refused.value.errors == {
        "type": ["Can't change the type of 'age' to datetime: 1 contact has a value that is not a date, such as"
                 " 2026-01-15, 2026-01-15T10:30:00+02:00 or 15-01-2026 10:30."]
    }  # fmt: skip
    temba.update_contact(ann, fields={"age": ""})  # cleared: nothing stands in the way
    retyped = temba.update_field(age, "Real Age", "datetime")
    assert (retyped.key, retyped.name, retyped.type) == ("age", "Real Age", "datetime")
    temba.update_contact(ann, fields={"age": "2026-01-15"})
    assert [(f.key, f.type) for f in temba.get_fields(key="age").all()] == [("age", "datetime")]
    assert temba.get_contacts(uuid=ann.uuid).all()[0].fields == {"age": "2026-01-15T00:00:00Z"}

    with pytest.raises(TembaBadRequestError) as refused:
        temba.create_field("Goats", "video")
    assert refused.value.errors == {"type": ['"video" is not a valid choice.']}


def test_contacts_list_newest_modified_first_and_reverse(temba, workspace):
    first = temba.create_contact(name="First", urns=["tel:+250788111111"])
    second = temba.create_contact(name="Second", urns=["tel:+250788222222"])
    assert uuids(temba.get_contacts().all()) == [second.uuid, first.uuid]
    assert uuids(temba.get_contacts(reverse=True).all()) == [first.uuid, second.uuid]


# `temba/api/v2/tests/test_serializers.py::FieldsTest::test_contact`: a contact's URN is `scheme:path`, its display
# left to the messages (`temba/api/v2/fields.py` `serialize_urn`).
def test_contact_urns_come_without_their_display_and_messages_keep_it(temba, workspace, gateway):
    create_channel(
        workspace,
        "external",
        "Gateway",
        schemes=["tel"],
        config={"send_url": f"{gateway.url}/send", "content_type": "json"},
    )
    ann = temba.create_contact(name="Ann", urns=["tel:+250788383383#xyz", "twitterid:2352463463#franky"])
    assert ann.urns == ["tel:+250788383383", "twitterid:2352463463"]
    assert temba.get_contacts(uuid=ann.uuid).first().urns == ["tel:+250788383383", "twitterid:2352463463"]
    assert temba.update_contact(ann, name="Ann B").urns == ["tel:+250788383383", "twitterid:2352463463"]

    temba.create_broadcast("Hello", contacts=[ann.uuid])
    assert [m.urn for m in temba.get_messages(folder="sent").all()] == ["tel:+250788383383#xyz"]


# Sending


def test_a_created_broadcast_is_sent_and_its_messages_listed(temba, workspace, gateway):
    channel = create_channel(
        workspace,
        "external",
        "Gateway",
        schemes=["tel"],
        config={"send_url": f"{gateway.url}/send", "content_type": "json"},
    )
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"])

    sent = temba.create_broadcast("Hello @contact.name", urns=["tel:+250788222222"], contacts=[str(ann.uuid)])

    messages = temba.get_messages(folder="sent").all()
    assert all(isinstance(m, Message) for m in messages)
    assert sorted((m.urn, m.text, m.status, m.direction) for m in messages) == [
        ("tel:+250788111111", "Hello Ann", "wired", "out"),
        ("tel:+250788222222", "Hello ", "wired", "out"),  # a new contact: no name yet
    ]
    assert {m.channel.uuid for m in messages} == {str(channel.uuid)}
    assert {m.contact.uuid for m in messages} >= {str(ann.uuid)}
    assert all(isinstance(m.sent_on, datetime) for m in messages)
    assert sorted(r.json["to"] for r in gateway.requests) == ["+250788111111", "+250788222222"]
    assert temba.get_broadcasts(uuid=sent.uuid).first().status == "completed"
    assert temba.get_messages(folder="outbox").all() == []


# docs/COMPATIBILITY.md, C44: Herald's fields after RapidPro's don't bother the client.
def test_the_client_parses_a_failed_message_with_herald_s_fields(temba, workspace, admin):
    billy = make_contact(workspace, "Billy")  # no URN: no channel can reach him
    temba.create_broadcast("Hello", contacts=[str(billy.uuid)])
    (failed,) = temba.get_messages(folder="failed").all()
    assert isinstance(failed, Message)
    assert (failed.contact.uuid, failed.status, failed.text) == (str(billy.uuid), "failed", "Hello")
    assert isinstance(failed.created_on, datetime)
    (raw,) = admin.get("/api/v2/messages.json", {"uuid": failed.uuid}).json()["results"]
    assert (raw["failed_reason"], raw["failed_detail"]) == ("no_destination", FailedReason.NO_DESTINATION.label)


# docs/COMPATIBILITY.md, C60: messages a gateway hands Herald, as the client lists them.
def test_the_client_lists_incoming_messages(live_server, temba, workspace, gateway):
    channel = create_channel(
        workspace, "external", "Gateway", schemes=["tel"], config={"send_url": f"{gateway.url}/send"}
    )
    receive = f"{live_server.url}/c/ex/{channel.uuid}/{channel.callback_secret}/receive"
    for sender, text in [("+250788111111", "Hello"), ("0788222222", "Yes please")]:
        body = urllib.parse.urlencode({"from": sender, "text": text}).encode()
        with urllib.request.urlopen(receive, data=body, timeout=10) as answer:
            assert json.load(answer)["message"] == "Message Accepted"

    for folder in ("incoming", "inbox"):
        messages = temba.get_messages(folder=folder).all()
        assert all(isinstance(m, Message) for m in messages)
        assert [(m.urn, m.text, m.direction, m.type, m.status) for m in messages] == [
            ("tel:+250788222222", "Yes please", "in", "text", "handled"),
            ("tel:+250788111111", "Hello", "in", "text", "handled"),
        ]
        assert {m.channel.uuid for m in messages} == {str(channel.uuid)}
        assert all(isinstance(m.created_on, datetime) and isinstance(m.sent_on, datetime) for m in messages)
    assert temba.get_messages(folder="sent").all() == []
    assert {c.urns[0] for c in temba.get_contacts().all()} == {"tel:+250788111111", "tel:+250788222222"}


# Errors


def test_bad_request_raises_with_the_servers_message(temba, workspace):
    with pytest.raises(TembaBadRequestError) as caught:
        temba.create_broadcast("Hello")
    assert caught.value.errors == {"non_field_errors": ["Must provide either urns, contacts or groups."]}
    assert str(caught.value) == "Must provide either urns, contacts or groups."

    with pytest.raises(TembaBadRequestError) as caught:
        temba.create_broadcast("Hello", contacts=["abcde"])
    assert str(caught.value) == "No such object: abcde"


def test_bad_token_and_forbidden_role_raise_token_error(live_server, workspace):
    with pytest.raises(TembaTokenError):
        TembaClient(live_server.url, "0" * 40).get_org()
    agent = client_for(live_server, workspace, "agent")
    with pytest.raises(TembaTokenError):
        agent.get_broadcasts().all()  # agents' tokens are refused (APIToken.ALLOWED_ROLES)


def test_rate_limit_raises_with_an_integer_retry_after(temba, workspace):
    workspace.api_rates = {"v2": "2/minute"}
    workspace.save()
    temba.get_org()
    temba.get_broadcasts().all()

    with pytest.raises(TembaRateExceededError) as caught:
        temba.get_org()

    assert isinstance(caught.value.retry_after, int)
    assert 1 <= caught.value.retry_after <= 60
    assert f"Please wait {caught.value.retry_after} seconds" in str(caught.value)


def test_unknown_objects_raise_no_such_object(temba, workspace):
    missing = str(uuid.uuid4())
    with pytest.raises(TembaNoSuchObjectError):
        temba.delete_contact(missing)
    with pytest.raises(TembaNoSuchObjectError):
        temba.update_contact(missing, name="Nobody")
    with pytest.raises(TembaNoSuchObjectError):
        temba.delete_group(missing)
