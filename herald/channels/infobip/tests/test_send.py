"""Sending through Infobip, against a fake Infobip on 127.0.0.1: the exact request, and each answer's class."""

import pytest

from herald.channels.base import PermanentSendError, SendResult, TransientSendError
from herald.channels.models import Channel, ChannelLog
from herald.channels.registry import create_channel, get_type
from herald.msgs import delivery
from herald.msgs.models import FailedReason, MsgStatus
from herald.testing.factories import make_msg
from herald.testing.gateway import reply
from herald.testing.providers.base import json_reply
from herald.testing.providers.infobip import API_KEY, FakeInfobip

INFOBIP = get_type("infobip")


@pytest.fixture
def infobip():
    with FakeInfobip() as fake:
        yield fake


@pytest.fixture
def channel(workspace, infobip, settings):
    settings.BASE_URL = "https://herald.example.org"
    return create_channel(
        workspace, "infobip", "Infobip", address="HERALD", config={"base_url": infobip.base_url, "api_key": API_KEY}
    )


def send(channel, msg):
    msg.channel = channel
    return INFOBIP.send(channel, msg)


def test_send_posts_infobip_json_with_the_app_key_and_report_url(channel, infobip, bob):
    msg = make_msg(bob, "Hi Bob", attachments=["image/jpeg:https://example.com/a.jpg"], quick_replies=[{"text": "Yes"}])

    assert send(channel, msg) == SendResult(external_id=str(msg.uuid))

    request = infobip.requests[-1]
    assert (request.method, request.path) == ("POST", "/sms/2/text/advanced")
    assert request.headers["authorization"] == f"App {API_KEY}"
    assert request.headers["accept"] == "application/json"
    assert request.headers["content-type"] == "application/json"
    report_url = f"https://herald.example.org/c/ib/{channel.uuid}/{channel.callback_secret}/delivered"
    assert request.json == {
        "messages": [
            {
                "from": "HERALD",
                "destinations": [{"to": "250788123123", "messageId": str(msg.uuid)}],
                "text": "Hi Bob\nhttps://example.com/a.jpg\nYes",
                "callbackData": str(msg.uuid),
                "notifyUrl": report_url,
                "notifyContentType": "application/json",
            }
        ]
    }


def test_without_base_url_no_notify_url_is_sent(channel, infobip, bob, settings):
    settings.BASE_URL = ""
    send(channel, make_msg(bob, "Hi"))

    assert "notifyUrl" not in infobip.requests[-1].json["messages"][0]


@pytest.mark.parametrize(("group", "name"), [(5, "REJECTED_NETWORK"), (2, "UNDELIVERABLE_NOT_DELIVERED")])
def test_a_message_refused_in_the_answer_fails_with_its_status(channel, infobip, bob, group, name):
    infobip.reject_next(group)

    with pytest.raises(PermanentSendError) as refused:
        send(channel, make_msg(bob, "Hi"))

    assert refused.value.detail.startswith(f"Infobip {name}: ")


def test_a_wrong_key_fails_with_infobips_words(channel, infobip, bob):
    Channel.objects.filter(id=channel.id).update(config={**channel.config, "api_key": "wrong"})
    channel.refresh_from_db()

    with pytest.raises(PermanentSendError) as refused:
        send(channel, make_msg(bob, "Hi"))

    assert refused.value.detail == "Infobip HTTP 401 UNAUTHORIZED: Invalid login details"


def test_the_fake_refuses_a_message_without_text_as_infobip_does(channel, infobip, bob):
    with pytest.raises(PermanentSendError) as refused:
        send(channel, make_msg(bob, ""))

    assert refused.value.detail == "Infobip HTTP 400 BAD_REQUEST: Message text is required."


def test_too_many_requests_is_transient_with_retry_after(channel, infobip, bob):
    body = {"requestError": {"serviceException": {"messageId": "TOO_MANY_REQUESTS", "text": "Too many requests"}}}
    infobip.will(json_reply(429, body, {"Retry-After": "7"}))

    with pytest.raises(TransientSendError) as later:
        send(channel, make_msg(bob, "Hi"))

    assert (later.value.retry_after, later.value.detail) == (
        7.0,
        "Infobip HTTP 429 TOO_MANY_REQUESTS: Too many requests",
    )


def test_server_errors_are_transient(channel, infobip, bob):
    infobip.will(reply(503, "<html>Service Unavailable</html>"))

    with pytest.raises(TransientSendError):
        send(channel, make_msg(bob, "Hi"))


def test_delivery_logs_keep_the_api_key_out(channel, infobip, bob):
    infobip.reject_next(5)
    ok, refused = (
        make_msg(bob, "one", channel=channel, status=MsgStatus.QUEUED),
        make_msg(bob, "two", channel=channel, status=MsgStatus.QUEUED),
    )

    delivery.deliver(channel.id)

    statuses = {m.id: (m.status, m.failed_reason) for m in (ok, refused) if not m.refresh_from_db()}
    assert sorted(statuses.values()) == sorted([(MsgStatus.WIRED, None), (MsgStatus.FAILED, FailedReason.PERMANENT)])
    logs = list(ChannelLog.objects.filter(channel=channel))
    assert len(logs) == 2
    assert all(API_KEY not in str(log.http_logs) + str(log.errors) for log in logs)
    assert all("authorization: ********" in log.http_logs[0]["request"] for log in logs)
