"""Sending through Africa's Talking, against a fake on 127.0.0.1: the exact request, each recipient status's class,
and the whole loop (the delivery run records outcomes, stops an opted-out contact, keeps the key out of the logs)."""

import pytest

from herald.channels.base import PermanentSendError, RecipientStopped, SendResult, TransientSendError
from herald.channels.models import Channel, ChannelLog
from herald.channels.registry import get_type
from herald.contacts.models import ContactStatus, StatusReason
from herald.msgs import delivery
from herald.msgs.models import FailedReason, MsgStatus
from herald.testing.factories import make_contact, make_msg
from herald.testing.gateway import reply
from herald.testing.providers.africastalking import API_KEY, USERNAME

AFRICASTALKING = get_type("africastalking")


def send(channel, msg):
    msg.channel = channel
    return AFRICASTALKING.send(channel, msg)


def test_a_message_is_one_form_post_with_the_key_in_its_header(channel, africastalking, bob):
    attachments, replies = ["image/jpeg:https://example.com/a.jpg"], [{"text": "Yego"}]
    msg = make_msg(bob, "Muraho", attachments=attachments, quick_replies=replies)

    result = send(channel, msg)

    request = africastalking.requests[-1]
    assert (request.method, request.path) == ("POST", "/version1/messaging")
    assert (request.headers["apikey"], request.headers["accept"]) == (API_KEY, "application/json")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form == {
        "username": USERNAME,
        "to": "+250788123123",
        "message": "Muraho\nhttps://example.com/a.jpg\nYego",
        "bulkSMSMode": "1",
        "from": "HERALD",
    }
    assert result == SendResult(external_id=f"ATXid_{1:024x}")


def test_without_an_address_the_accounts_default_sender_is_used(channel, africastalking, bob):
    Channel.objects.filter(id=channel.id).update(address="")
    channel.refresh_from_db()
    send(channel, make_msg(bob, "Hi"))
    assert "from" not in africastalking.requests[-1].form


@pytest.mark.parametrize(
    ("code", "error", "words"),
    [
        (403, PermanentSendError, "Africa's Talking status 403 (InvalidPhoneNumber)"),
        (405, PermanentSendError, "Africa's Talking status 405 (InsufficientBalance): top up the account"),
        (409, PermanentSendError, "Africa's Talking status 409 (DoNotDisturbRejection): the number has Do Not"),
        (406, RecipientStopped, "Africa's Talking status 406 (UserInBlacklist): the number opted out"),
        (500, TransientSendError, "Africa's Talking status 500 (InternalServerError)"),
        (502, TransientSendError, "Africa's Talking status 502 (RejectedByGateway)"),
    ],
)
def test_each_recipient_status_is_classed(channel, africastalking, bob, code, error, words):
    africastalking.recipient_status["+250788123123"] = code

    with pytest.raises(error) as refused:
        send(channel, make_msg(bob, "Hi"))

    assert type(refused.value) is error
    assert refused.value.detail.startswith(words)


def test_a_wrong_key_fails_at_once_with_the_providers_words(channel, africastalking, bob):
    Channel.objects.filter(id=channel.id).update(config={**channel.config, "api_key": "wrong"})
    channel.refresh_from_db()

    with pytest.raises(PermanentSendError) as refused:
        send(channel, make_msg(bob, "Hi"))

    assert refused.value.detail == (
        "Africa's Talking refused the api_key / username (HTTP 401): The supplied authentication is invalid"
    )


def test_a_429_waits_for_its_retry_after_and_a_5xx_is_retried(channel, africastalking, bob):
    africastalking.will(reply(429, "Too Many Requests", {"Retry-After": "30"}), reply(503, "busy"))

    with pytest.raises(TransientSendError) as limited:
        send(channel, make_msg(bob, "Hi"))
    with pytest.raises(TransientSendError):
        send(channel, make_msg(bob, "Hi"))

    assert limited.value.retry_after == 30


def test_an_empty_text_is_refused_by_the_provider_as_it_would_be(channel, africastalking, bob):
    with pytest.raises(PermanentSendError) as refused:
        send(channel, make_msg(bob, ""))
    assert "Request is missing required form field 'message'" in refused.value.detail


def test_the_delivery_loop_records_each_outcome_and_stops_who_opted_out(channel, africastalking, workspace):
    fine = make_contact(workspace, "Fine", urns=["tel:+250788000001"])
    gone = make_contact(workspace, "Gone", urns=["tel:+250788000002"])
    africastalking.recipient_status["+250788000002"] = 406
    sent, refused = make_msg(fine, "Hi", channel=channel), make_msg(gone, "Hi", channel=channel)

    delivery.deliver(channel.id)

    sent.refresh_from_db()
    refused.refresh_from_db()
    gone.refresh_from_db()
    assert (sent.status, sent.external_id) == (MsgStatus.WIRED, f"ATXid_{1:024x}")
    assert (refused.status, refused.failed_reason) == (MsgStatus.FAILED, FailedReason.CONTACT)
    assert (gone.status, gone.status_reason) == (ContactStatus.STOPPED, StatusReason.PROVIDER_STOP)
    logs = ChannelLog.objects.filter(channel=channel)
    assert logs.count() == 2
    assert all(API_KEY not in str(log.http_logs) for log in logs)
