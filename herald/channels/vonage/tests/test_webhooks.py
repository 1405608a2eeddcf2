"""Vonage's webhooks, made by FakeVonage (signed with MD5 hash, as Vonage signs them) to a real Herald on loopback
(`live_server`): delivery receipts by client-ref or messageId, incoming messages, and the refusals."""

import pytest

from herald.channels.callbacks import callback_urls
from herald.channels.models import ChannelLog
from herald.channels.registry import get_type
from herald.channels.vonage import signature
from herald.contacts.models import ContactStatus
from herald.msgs.models import Msg, MsgStatus
from herald.testing.factories import make_msg

from .conftest import SIGNATURE_SECRET, vonage_channel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def urls(channel, live_server, settings):
    settings.BASE_URL = live_server.url
    return callback_urls(channel)


def sent_msg(channel, vonage, bob, text="Hello"):
    """A message Vonage took: wired, with Vonage's message id; and what the fake holds of it."""
    msg = make_msg(bob, text, channel=channel)
    result = get_type("vonage").send(channel, msg)
    Msg.objects.filter(id=msg.id).update(status=MsgStatus.WIRED, external_id=result.external_id)
    return Msg.objects.get(id=msg.id), vonage.sent[-1]


def test_the_md5_hash_signature_is_vonages():
    # The official SDKs' own test vector (vonage-python-sdk, md5hash with secret "secret").
    params = {"a": "1", "b": "2", "timestamp": "1461605396"}
    assert signature.signed(params, "secret") == "6af838ef94998832dbfc29020b564830"
    signature.check({**params, "sig": "6AF838EF94998832DBFC29020B564830"}, "secret", now=1461605396 + 60)


@pytest.mark.parametrize("method", ["GET", "POST", "JSON"])
def test_a_delivered_receipt_by_client_ref_delivers_the_message(channel, vonage, bob, urls, method):
    msg, sent = sent_msg(channel, vonage, bob)

    response = vonage.receipt(urls["receipt"], sent, "delivered", method=method)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "message": "Status Update Accepted",
        "data": [
            {
                "type": "status",
                "channel_uuid": str(channel.uuid),
                "msg_uuid": str(msg.uuid),
                "status": "delivered",
                "changed": True,
            }
        ],
    }
    msg.refresh_from_db()
    assert msg.status == MsgStatus.DELIVERED


def test_a_receipt_without_client_ref_finds_the_message_by_message_id(channel, vonage, bob, urls):
    msg, sent = sent_msg(channel, vonage, bob)
    del sent["client-ref"]

    response = vonage.receipt(urls["receipt"], sent, "accepted")

    assert response.status_code == 200, response.text
    msg.refresh_from_db()
    assert msg.status == MsgStatus.SENT


def test_a_failed_receipt_fails_the_message_with_vonages_error_code(channel, vonage, bob, urls):
    msg, sent = sent_msg(channel, vonage, bob)

    response = vonage.receipt(urls["receipt"], sent, "rejected", err_code="6", method="POST")

    assert response.status_code == 200, response.text
    msg.refresh_from_db()
    assert msg.status == MsgStatus.FAILED
    assert msg.error_detail == "Vonage receipt rejected, err-code 6: Anti-Spam Rejection"


def test_an_unknown_status_receipt_changes_nothing_and_is_answered_200(channel, vonage, bob, urls):
    msg, sent = sent_msg(channel, vonage, bob)

    response = vonage.receipt(urls["receipt"], sent, "unknown")

    assert (response.status_code, response.json()) == (200, {"message": "Events Handled", "data": []})
    msg.refresh_from_db()
    assert msg.status == MsgStatus.WIRED


def test_a_receipt_for_a_message_herald_never_sent_is_accepted_ignored_and_logged(channel, vonage, urls):
    sent = {"to": "250788123123", "from": "250788000000", "message-ids": ["0B00000000000001"]}

    response = vonage.receipt(urls["receipt"], sent, "delivered")

    assert response.status_code == 200, response.text
    [item] = response.json()["data"]
    assert (item["msg_uuid"], item["changed"], item["ignored"]) == (
        None,
        False,
        "no message with provider id 0B00000000000001 was sent through this channel",
    )
    assert ChannelLog.objects.filter(channel=channel, log_type="msg_status").count() == 1


def test_a_receipt_with_a_status_vonage_never_sends_is_a_400(channel, vonage, bob, urls):
    msg, sent = sent_msg(channel, vonage, bob)

    response = vonage.receipt(urls["receipt"], sent, "exploded")

    assert response.status_code == 400
    assert response.json()["error"].startswith("unknown receipt status 'exploded': one of accepted, buffered")
    msg.refresh_from_db()
    assert msg.status == MsgStatus.WIRED


def test_an_incoming_message_is_stored_once_per_message_id(channel, vonage, urls):
    response = vonage.inbound(urls["receive"], "250788555111", "Muraho 😀")

    assert response.status_code == 200, response.text
    (msg,) = Msg.objects.incoming()
    assert (msg.text, msg.contact_urn.identity, msg.channel_id) == ("Muraho 😀", "tel:+250788555111", channel.id)
    assert response.json()["message"] == "Message Accepted"
    # Vonage retries a webhook: the same messageId again stores nothing new.
    again = vonage.webhook(
        urls["receive"],
        {
            "msisdn": "250788555111",
            "to": "250788000000",
            "messageId": msg.external_id,
            "text": "Muraho 😀",
            "type": "unicode",
            "message-timestamp": "2026-12-02 11:00:00",
        },
        method="POST",
    )
    assert again.status_code == 200, again.text
    assert Msg.objects.incoming().count() == 1


def test_a_stop_word_from_vonage_stops_the_contact(channel, vonage, urls):
    response = vonage.inbound(urls["receive"], "250788555111", "STOP")

    assert response.status_code == 200, response.text
    (msg,) = Msg.objects.incoming()
    assert msg.contact.status == ContactStatus.STOPPED


@pytest.mark.parametrize("action", ["receipt", "receive"])
@pytest.mark.parametrize("fault", ["unsigned", "wrong secret", "stale", "tampered"])
def test_a_webhook_without_a_good_signature_is_a_403_and_changes_nothing(
    channel, vonage, bob, urls, action, fault, live_server
):
    msg, sent = sent_msg(channel, vonage, bob)
    if action == "receipt":
        params = {"messageId": sent["message-ids"][0], "client-ref": str(msg.uuid), "status": "delivered"}
    else:
        params = {"msisdn": "250788555111", "to": "250788000000", "messageId": "0C01", "text": "Hi"}
    if fault == "unsigned":
        response = vonage.webhook(urls[action], params, signed=False)
    elif fault == "wrong secret":
        vonage.signature_secret = "not-" + SIGNATURE_SECRET
        response = vonage.webhook(urls[action], params)
    elif fault == "stale":
        response = vonage.webhook(urls[action], vonage.sign(params, timestamp=1_700_000_000), signed=False)
    else:
        signed = vonage.sign(params)
        response = vonage.webhook(urls[action], {**signed, "text": "Hi!", "status": "failed"}, signed=False)

    assert response.status_code == 403, response.text
    assert response.json()["message"] == "Error"
    msg.refresh_from_db()
    assert msg.status == MsgStatus.WIRED
    assert not Msg.objects.incoming().exists()


def test_without_a_signature_secret_the_url_secret_alone_lets_webhooks_in(workspace, vonage, live_server, settings):
    settings.BASE_URL = live_server.url
    channel = vonage_channel(workspace, vonage)
    vonage.signature_secret = ""

    response = vonage.inbound(callback_urls(channel)["receive"], "250788555111", "Hello")

    assert response.status_code == 200, response.text
    assert Msg.objects.incoming().count() == 1


def test_the_signature_secret_never_reaches_the_callback_log(channel, vonage, urls):
    vonage.inbound(urls["receive"], "250788555111", "Hello")
    vonage.webhook(urls["receive"], {"msisdn": "250788555111", "text": "x"}, signed=False)

    logs = list(ChannelLog.objects.filter(channel=channel))
    assert len(logs) == 2
    for log in logs:
        text = str(log.http_logs) + str(log.errors)
        for secret in (SIGNATURE_SECRET, vonage.api_secret, channel.callback_secret):
            assert secret not in text


def test_an_incoming_message_keeps_vonages_timestamp_and_a_bad_sender_is_a_400(channel, vonage, urls):
    params = {"msisdn": "250788555111", "to": "250788000000", "messageId": "0D01", "text": "Hi"}

    stored = vonage.webhook(urls["receive"], {**params, "message-timestamp": "2026-12-02 10:30:00"}, method="JSON")
    bad_time = vonage.webhook(urls["receive"], {**params, "messageId": "0D02", "message-timestamp": "yesterday"})
    bad_sender = vonage.webhook(urls["receive"], {**params, "messageId": "0D03", "msisdn": "not-a-number"})

    assert stored.status_code == 200, stored.text
    (msg,) = Msg.objects.incoming()
    assert msg.sent_on.isoformat() == "2026-12-02T10:30:00+00:00"
    assert (bad_time.status_code, bad_time.json()["error"]) == (
        400,
        "message-timestamp must be UTC 'YYYY-MM-DD HH:MM:SS', got 'yesterday'",
    )
    assert bad_sender.status_code == 400
    assert Msg.objects.incoming().count() == 1
