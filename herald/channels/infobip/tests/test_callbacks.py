"""Infobip's delivery reports and incoming messages at /c/ib/<channel uuid>/<secret>/<delivered|receive>, posted by
the fake Infobip to a live Herald (and through Django's test client for refused bodies)."""

from urllib.parse import urlsplit

import pytest
from django.test import Client

from herald.channels.callbacks import callback_urls
from herald.channels.models import Channel, ChannelLog
from herald.contacts.models import ContactStatus
from herald.msgs.models import FailedReason, Msg, MsgStatus
from herald.testing.factories import make_msg
from herald.testing.providers.infobip import API_KEY, FakeInfobip

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def infobip():
    with FakeInfobip() as fake:
        yield fake


@pytest.fixture
def channel(workspace, infobip, live_server, settings):
    settings.BASE_URL = live_server.url
    return Channel.objects.create(
        workspace=workspace,
        channel_type="infobip",
        name="Infobip",
        address="HERALD",
        schemes=["tel"],
        config={"base_url": infobip.base_url, "api_key": API_KEY},
    )


def wired(bob, channel, n=3):
    return [make_msg(bob, f"m{i}", channel=channel, status=MsgStatus.WIRED) for i in range(n)]


def test_a_report_batch_moves_each_message(channel, infobip, bob):
    pending, delivered, rejected = wired(bob, channel)

    response = infobip.report(
        callback_urls(channel)["delivered"],
        [(str(pending.uuid), 1), (str(delivered.uuid), 3), (str(rejected.uuid), 5)],
    )

    assert response.status_code == 200, response.text
    assert [item["status"] for item in response.json()["data"]] == ["sent", "delivered", "failed"]
    for msg in (pending, delivered, rejected):
        msg.refresh_from_db()
    assert (pending.status, delivered.status, rejected.status) == (
        MsgStatus.SENT,
        MsgStatus.DELIVERED,
        MsgStatus.FAILED,
    )
    assert rejected.failed_reason == FailedReason.PERMANENT
    assert rejected.error_detail == (
        "REJECTED_NETWORK (Network is forbidden); error EC_ABSENT_SUBSCRIBER (Absent Subscriber)"
    )


# docs/COMPATIBILITY.md, C74.
def test_an_expired_report_fails_the_message(channel, infobip, bob):
    [msg] = wired(bob, channel, 1)

    response = infobip.report(callback_urls(channel)["delivered"], [(str(msg.uuid), 4)])

    assert response.status_code == 200, response.text
    msg.refresh_from_db()
    assert (msg.status, msg.error_detail) == (
        MsgStatus.FAILED,
        "EXPIRED_EXPIRED (Message expired); error EC_ABSENT_SUBSCRIBER (Absent Subscriber)",
    )


def test_a_report_for_an_unknown_message_is_taken_and_ignored(channel, infobip, bob):
    [known] = wired(bob, channel, 1)
    unknown = "01a236b0-0000-7000-8000-000000000000"

    response = infobip.report(callback_urls(channel)["delivered"], [(unknown, 3), (str(known.uuid), 3)])

    assert response.status_code == 200, response.text
    assert [item["msg_uuid"] for item in response.json()["data"]] == [None, str(known.uuid)]
    known.refresh_from_db()
    assert known.status == MsgStatus.DELIVERED


def test_a_wrong_secret_is_refused_and_changes_nothing(channel, infobip, bob):
    [msg] = wired(bob, channel, 1)
    url = callback_urls(channel)["delivered"].replace(channel.callback_secret, "x" * len(channel.callback_secret))

    response = infobip.report(url, [(str(msg.uuid), 3)])

    assert response.status_code == 403
    msg.refresh_from_db()
    assert msg.status == MsgStatus.WIRED


def test_incoming_batch_stores_each_message_once(channel, infobip):
    url = callback_urls(channel)["receive"]
    batch = [{"messageId": "in-a", "text": "Join"}, {"messageId": "in-b", "from": "250788555555", "text": "Hi"}]

    assert infobip.deliver_inbound(url, batch).status_code == 200
    assert infobip.deliver_inbound(url, batch).status_code == 200  # Infobip retried: nothing new

    incoming = list(Msg.objects.incoming().order_by("id"))
    assert [(m.text, str(m.contact_urn.identity), m.external_id) for m in incoming] == [
        ("Join", "tel:+250788123123", "in-a"),
        ("Hi", "tel:+250788555555", "in-b"),
    ]
    assert incoming[0].sent_on.isoformat() == "2026-12-02T10:00:00+00:00"


def test_a_stop_word_stops_the_contact(channel, infobip):
    assert infobip.deliver_inbound(callback_urls(channel)["receive"], [{"text": "STOP"}]).status_code == 200

    [msg] = Msg.objects.incoming()
    assert msg.contact.status == ContactStatus.STOPPED


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"results": "nope"}, "expected a JSON body with 'results', a list of objects"),
        ({"results": [{"messageId": "x", "status": {"groupId": 9}}]}, "unknown status groupId 9 for message 'x'"),
    ],
)
def test_a_report_body_infobip_would_not_send_is_a_400(channel, body, error):
    path = urlsplit(callback_urls(channel)["delivered"]).path

    response = Client().post(path, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["data"][0]["error"] == error


def test_incoming_without_from_is_a_400_and_stores_nothing(channel):
    path = urlsplit(callback_urls(channel)["receive"]).path

    response = Client().post(path, {"results": [{"messageId": "a", "text": "x"}]}, content_type="application/json")

    assert response.status_code == 400
    assert not Msg.objects.incoming().exists()
    assert channel.callback_secret not in str(list(ChannelLog.objects.values_list("http_logs", flat=True)))
