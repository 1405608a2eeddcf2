"""Incoming messages and stop signals at /c/ex/<channel uuid>/<secret>/<receive|stopped>, through Django's test
client, read as courier's `handlers/external` reads them (its test cases are the model for these)."""

from urllib.parse import urlencode

import pytest
from django.test import Client

from herald.channels.models import Channel
from herald.contacts.models import Contact, ContactStatus, ContactURN
from herald.msgs.models import Msg, MsgDirection, MsgStatus
from herald.testing.factories import make_contact


@pytest.fixture
def channel(workspace):
    return Channel.objects.create(
        workspace=workspace,
        channel_type="external",
        name="Gateway",
        schemes=["tel"],
        config={"send_url": "http://127.0.0.1:9/send"},
    )


def url(channel, action, secret=None):
    return f"/c/ex/{channel.uuid}/{channel.callback_secret if secret is None else secret}/{action}"


def incoming():
    return list(Msg.objects.incoming().order_by("id"))


def test_receive_by_get_stores_the_message_from_a_new_contact(channel, workspace):
    response = Client().get(url(channel, "receive"), {"from": "+250788123123", "text": "Join"})

    assert response.status_code == 200, response.content
    (msg,) = incoming()
    assert response.json() == {
        "message": "Message Accepted",
        "data": [
            {
                "type": "msg",
                "channel_uuid": str(channel.uuid),
                "msg_uuid": str(msg.uuid),
                "text": "Join",
                "urn": "tel:+250788123123",
                "received_on": msg.sent_on.isoformat(),
            }
        ],
    }
    assert (msg.direction, msg.status, msg.text, msg.channel_id) == (
        MsgDirection.IN,
        MsgStatus.HANDLED,
        "Join",
        channel.id,
    )
    assert msg.contact.workspace == workspace
    assert msg.contact.status == ContactStatus.ACTIVE
    assert msg.contact.last_seen_on == msg.sent_on
    assert msg.contact_urn.identity == "tel:+250788123123"
    # The contact's URN now prefers the channel it wrote through.
    assert msg.contact_urn.channel_id == channel.id


def test_receive_by_form_post_with_sender_finds_the_known_contact(channel, workspace):
    joe = make_contact(workspace, "Joe", ["tel:+250788123123"])

    response = Client().post(url(channel, "receive"), {"sender": "+250788123123", "text": "Hello"})

    assert response.status_code == 200, response.content
    (msg,) = incoming()
    assert msg.contact == joe
    assert Contact.objects.count() == 1


def test_receive_by_json_post(channel):
    response = Client().post(
        url(channel, "receive"), {"from": "+250788123123", "text": "Yes"}, content_type="application/json"
    )

    assert response.status_code == 200, response.content
    assert [m.text for m in incoming()] == ["Yes"]


def test_receive_by_multipart_post(channel):
    response = Client().post(url(channel, "receive"), {"from": "+250788123123", "text": "Yes"})  # multipart

    assert response.status_code == 200, response.content
    assert [m.text for m in incoming()] == ["Yes"]


def test_a_national_number_is_read_in_the_channel_s_country(channel):
    channel.country = "NG"
    channel.save()

    response = Client().get(url(channel, "receive"), {"from": "09067554729", "text": "Join"})

    assert response.status_code == 200, response.content
    assert response.json()["data"][0]["urn"] == "tel:+2349067554729"


def test_a_national_number_is_read_in_the_workspace_s_country_when_the_channel_has_none(channel):
    response = Client().get(url(channel, "receive"), {"from": "0788123123", "text": "Join"})

    assert response.json()["data"][0]["urn"] == "tel:+250788123123"


@pytest.mark.parametrize(
    ("date", "stored"),
    [
        ("2017-06-23T12:30:00.500Z", "2017-06-23T12:30:00.500000+00:00"),
        ("2017-06-23T12:30:00Z", "2017-06-23T12:30:00+00:00"),
        ("2017-06-23T14:30:00+02:00", "2017-06-23T12:30:00+00:00"),
    ],
)
@pytest.mark.parametrize("name", ["date", "time"])
def test_the_provider_s_date_is_when_it_was_sent(channel, name, date, stored):
    response = Client().get(url(channel, "receive"), {"from": "+250788123123", "text": "Join", name: date})

    assert response.status_code == 200, response.content
    (msg,) = incoming()
    assert msg.sent_on.isoformat() == stored
    assert msg.created_on > msg.sent_on


def test_a_retried_callback_with_the_same_id_stores_one_message(channel):
    client = Client()
    first = client.post(url(channel, "receive"), {"from": "+250788123123", "text": "Hi", "id": "p-1"})
    again = client.post(url(channel, "receive"), {"from": "+250788123123", "text": "Hi", "id": "p-1"})
    other = client.post(url(channel, "receive"), {"from": "+250788123123", "text": "Hi", "id": "p-2"})

    assert (first.status_code, again.status_code, other.status_code) == (200, 200, 200)
    assert again.json() == first.json()
    assert first.json()["data"][0]["external_id"] == "p-1"
    assert [m.external_id for m in incoming()] == ["p-1", "p-2"]


def test_without_an_id_each_callback_is_a_message(channel):
    client = Client()
    for _ in range(2):
        assert client.get(url(channel, "receive"), {"from": "+250788123123", "text": "Hi"}).status_code == 200

    assert len(incoming()) == 2


def test_the_same_id_on_another_channel_is_another_message(channel, workspace):
    second = Channel.objects.create(
        workspace=workspace, channel_type="external", name="Second", schemes=["tel"], config=channel.config
    )
    Client().get(url(channel, "receive"), {"from": "+250788123123", "text": "Hi", "id": "p-1"})
    Client().get(url(second, "receive"), {"from": "+250788123123", "text": "Hi", "id": "p-1"})

    assert len(incoming()) == 2


# Refused: a clear 4xx, and nothing stored (no message, no contact).


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"text": "Join"}, "must have one of 'sender' or 'from' set"),
        ({}, "must have one of 'sender' or 'from' set"),
        ({"from": "   ", "text": "Join"}, "must have one of 'sender' or 'from' set"),
        ({"from": "MTN", "text": "Join"}, "from: 'MTN' is not a possible tel address (read in RW)"),
        ({"from": "+250788123123#joe", "text": "Join"}, "is not a possible tel address"),
        (
            {"from": "+250788123123", "text": "Join", "time": "20170623T123000Z"},
            "invalid date format, must be RFC 3339",
        ),
        ({"from": "+250788123123", "text": "Join", "date": "2017-06-23 12:30:00"}, "invalid date format"),
        ({"from": "+250788123123", "text": "Join", "date": "2017-06-23T12:30:00"}, "invalid date format"),
        ({"from": "+250788123123", "text": "Join", "date": "2017-02-30T12:30:00Z"}, "no such day or time"),
        ({"from": "+250788123123", "text": "x" * 10_001}, "text is longer than 10,000 characters"),
        ({"from": "+250788123123", "text": "Join", "id": "i" * 256}, "id is longer than 255 characters"),
        ({"from": "+250788123123", "text": "Join", "id": "a\x00b"}, "id holds a control character: 'a\\x00b'"),
        ({"from": "+250788\x00123123", "text": "Join"}, "is not a possible tel address"),
    ],
)
def test_bad_input_is_a_400_naming_the_problem_and_stores_nothing(channel, params, message):
    response = Client().post(url(channel, "receive"), params)

    assert response.status_code == 400, response.content
    assert message in response.json()["error"]
    assert (Msg.objects.count(), Contact.objects.count(), ContactURN.objects.count()) == (0, 0, 0)


def test_a_refusal_is_courier_s_error_answer(channel):
    response = Client().get(url(channel, "receive"), {"text": "Join"})

    assert response.status_code == 400
    assert response.json() == {
        "message": "Error",
        "data": [{"type": "error", "error": "must have one of 'sender' or 'from' set"}],
        "error": "must have one of 'sender' or 'from' set",
    }


def test_a_character_no_database_can_store_is_replaced_in_the_text(channel):
    response = Client().post(
        url(channel, "receive"), {"from": "+250788123123", "text": "a\x00b"}, content_type="application/json"
    )

    assert response.status_code == 200, response.content
    assert [m.text for m in incoming()] == ["a\ufffdb"]


def test_bad_json_is_a_400(channel):
    response = Client().post(url(channel, "receive"), "{not json", content_type="application/json")

    assert response.status_code == 400
    assert Msg.objects.count() == 0


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_body_over_the_limit_is_a_413_and_stores_nothing(channel, settings, content_type):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"from": "+250788123123", "text": "x" * 2000}
    if content_type != "application/json":
        body = urlencode(body)
    response = Client().post(url(channel, "receive"), body, content_type=content_type)

    assert response.status_code == 413, response.content
    assert response.json() == {"detail": "Request body is larger than the limit of 1000 bytes."}
    assert (Msg.objects.count(), Contact.objects.count()) == (0, 0)


@pytest.mark.parametrize("action", ["receive", "stopped"])
def test_a_wrong_secret_is_a_403_and_stores_nothing(channel, action):
    response = Client().get(url(channel, action, secret="guess"), {"from": "+250788123123", "text": "STOP"})

    assert response.status_code == 403
    assert "wrong secret" in response.json()["error"]
    assert (Msg.objects.count(), Contact.objects.count()) == (0, 0)


@pytest.mark.parametrize("action", ["receive", "stopped"])
def test_no_secret_is_a_403_and_stores_nothing(channel, action):
    response = Client().get(f"/c/ex/{channel.uuid}/{action}", {"from": "+250788123123", "text": "Hi"})

    assert response.status_code == 403
    assert (Msg.objects.count(), Contact.objects.count()) == (0, 0)


def test_an_unknown_channel_is_a_404(channel):
    response = Client().get(
        f"/c/ex/8eb23e93-5ecb-45ba-b726-3b064e0c56ab/{channel.callback_secret}/receive",
        {"from": "+250788123123", "text": "Hi"},
    )

    assert response.status_code == 404
    assert Msg.objects.count() == 0


def test_a_disabled_channel_is_a_403(channel):
    channel.is_active = False
    channel.save()

    response = Client().get(url(channel, "receive"), {"from": "+250788123123", "text": "Hi"})

    assert response.status_code == 403
    assert Msg.objects.count() == 0


# Stop signals


@pytest.mark.parametrize("how", ["get", "post"])
def test_stopped_stops_the_contact(channel, workspace, how):
    joe = make_contact(workspace, "Joe", ["tel:+250788123123"])
    client = Client()

    if how == "get":
        response = client.get(url(channel, "stopped"), {"from": "+250788123123"})
    else:
        response = client.post(url(channel, "stopped"), {"from": "+250788123123"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == "Event Accepted"
    (item,) = body["data"]
    assert {k: item[k] for k in ("type", "channel_uuid", "event_type", "urn")} == {
        "type": "event",
        "channel_uuid": str(channel.uuid),
        "event_type": "stop_contact",
        "urn": "tel:+250788123123",
    }
    joe.refresh_from_db()
    assert (joe.status, joe.status_reason) == (ContactStatus.STOPPED, "provider_stop")
    assert joe.status_changed_on is not None
    assert Msg.objects.count() == 0  # a stop signal is no message, and gets no confirmation


def test_stopped_for_an_unknown_number_makes_a_stopped_contact(channel):
    response = Client().get(url(channel, "stopped"), {"from": "0788123123"})

    assert response.status_code == 200
    (contact,) = Contact.objects.all()
    assert contact.status == ContactStatus.STOPPED
    assert contact.urns.get().identity == "tel:+250788123123"


@pytest.mark.parametrize(
    ("params", "message"),
    [({}, "field 'from' required"), ({"from": "MTN"}, "is not a possible tel address")],
)
def test_stopped_with_bad_input_is_a_400(channel, params, message):
    response = Client().get(url(channel, "stopped"), params)

    assert response.status_code == 400
    assert message in response.json()["error"]
    assert Contact.objects.count() == 0


def test_stopped_leaves_a_blocked_contact_blocked(channel, workspace):
    joe = make_contact(workspace, "Joe", ["tel:+250788123123"], status=ContactStatus.BLOCKED)

    assert Client().get(url(channel, "stopped"), {"from": "+250788123123"}).status_code == 200

    joe.refresh_from_db()
    assert joe.status == ContactStatus.BLOCKED
