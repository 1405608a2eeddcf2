"""The twilio sender against FakeTwilio: the exact form it posts, and how each of Twilio's answers is classed."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from herald.channels.base import PermanentSendError, RecipientStopped, SendResult, TransientSendError
from herald.channels.models import ChannelLog
from herald.channels.registry import get_type
from herald.contacts.models import ContactStatus
from herald.msgs import tasks
from herald.msgs.models import Msg
from herald.testing.factories import make_media, make_msg
from herald.testing.gateway import reply
from herald.testing.providers.base import json_reply
from herald.testing.providers.twilio import ACCOUNT_SID, AUTH_TOKEN, SENDER

TWILIO = get_type("twilio")
SERVICE_SID = "MG" + "ab" * 16


def send(channel, msg):
    msg.channel = channel
    return TWILIO.send(channel, msg)


def test_a_message_is_posted_as_twilio_takes_it_and_its_sid_kept(channel, twilio, bob):
    msg = make_msg(
        bob,
        "Hi & welcome",
        attachments=["image/jpeg:https://example.com/a.jpg", "video/mp4:https://example.com/b.mp4"],
        quick_replies=[{"type": "text", "text": "Yes"}, {"type": "text", "text": "No"}],
    )

    assert send(channel, msg) == SendResult(external_id="SM" + "0" * 31 + "1")

    [request] = twilio.requests
    assert (request.method, request.path) == ("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert (
        request.headers["authorization"] == "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    )
    assert request.form_lists == {
        "To": ["+250788123123"],
        "From": [SENDER],
        "Body": ["Hi & welcome\nYes\nNo"],
        "MediaUrl": ["https://example.com/a.jpg", "https://example.com/b.mp4"],
        "StatusCallback": [f"http://testserver/c/tw/{channel.uuid}/{channel.callback_secret}/status?id={msg.uuid}"],
    }


def test_a_messaging_service_sends_instead_of_the_address(channel, twilio, bob):
    channel.config["messaging_service_sid"] = SERVICE_SID
    send(channel, make_msg(bob, "Hello"))

    form = twilio.requests[0].form
    assert form["MessagingServiceSid"] == SERVICE_SID
    assert "From" not in form


def test_without_a_public_address_no_status_callback_is_given(channel, twilio, bob, settings):
    settings.BASE_URL = ""
    send(channel, make_msg(bob, "Hello"))

    assert "StatusCallback" not in twilio.requests[0].form


@pytest.mark.parametrize(
    ("urn", "error", "message"),
    [
        ("tel:12", PermanentSendError, "Twilio error 21211: The 'To' number 12 is not a valid phone number."),
        (None, PermanentSendError, "message has no URN to send to"),
    ],
)
def test_a_number_twilio_refuses_fails_with_its_code(channel, twilio, bob, urn, error, message):
    msg = make_msg(bob, "Hello")
    if urn:
        msg.contact_urn.identity = urn
    else:
        msg.contact_urn = None
    with pytest.raises(error) as raised:
        send(channel, msg)
    assert raised.value.detail == message


def test_an_empty_message_is_refused_by_twilio(channel, twilio, bob):
    with pytest.raises(PermanentSendError, match=r"^Twilio error 21602: Message body is required\.$"):
        send(channel, make_msg(bob, ""))


def test_wrong_credentials_fail_permanently_saying_so(channel, twilio, bob):
    channel.config["auth_token"] = "not-the-token"
    with pytest.raises(PermanentSendError) as raised:
        send(channel, make_msg(bob, "Hello"))
    assert type(raised.value) is PermanentSendError
    assert raised.value.detail == "Twilio error 20003: Authenticate (check the channel's account_sid and auth_token)"


def test_an_unsubscribed_recipient_stops_the_contact(channel, twilio, bob):
    twilio.opted_out.add("+250788123123")
    with pytest.raises(RecipientStopped, match=r"^Twilio error 21610: Attempt to send to unsubscribed recipient$"):
        send(channel, make_msg(bob, "Hello"))


def test_too_many_requests_and_server_errors_are_transient(channel, twilio, bob):
    twilio.will(
        json_reply(429, {"code": 20429, "message": "Too Many Requests", "status": 429}, {"Retry-After": "7"}),
        reply(503, "<html>Service Unavailable</html>"),
    )
    with pytest.raises(TransientSendError) as limited:
        send(channel, make_msg(bob, "Hello"))
    assert (limited.value.detail, limited.value.retry_after) == ("Twilio error 20429: Too Many Requests", 7.0)

    with pytest.raises(TransientSendError, match="HTTP 503"):
        send(channel, make_msg(bob, "Hello"))


def test_a_2xx_without_a_sid_is_a_permanent_failure(channel, twilio, bob):
    twilio.will(json_reply(201, {"status": "queued"}))
    with pytest.raises(PermanentSendError, match="no message sid"):
        send(channel, make_msg(bob, "Hello"))


def test_more_than_ten_attachments_or_5_mb_fail_before_the_call(channel, twilio, bob, workspace):
    many = [f"image/png:https://example.com/{n}.png" for n in range(11)]
    with pytest.raises(PermanentSendError, match="at most 10 attachments"):
        send(channel, make_msg(bob, "Hi", attachments=many))

    big = make_media(workspace)
    big.size = 6 * 1024 * 1024
    big.save()
    with pytest.raises(PermanentSendError, match="MB"):
        send(channel, make_msg(bob, "Hi", attachments=[f"image/jpeg:{big.url}"]))
    assert twilio.requests == []


@pytest.mark.usefixtures("eager_tasks")
def test_through_the_delivery_loop_retry_after_waits_stop_fails_and_logs_hold_no_secret(
    channel, twilio, bob, django_capture_on_commit_callbacks
):
    twilio.will(json_reply(429, {"code": 20429, "message": "Too Many Requests", "status": 429}, {"Retry-After": "120"}))
    msg = make_msg(bob, "Hello", channel=channel)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.enqueue_delivery([channel.id])
    msg.refresh_from_db()
    assert msg.status == "E"
    assert msg.next_attempt >= before + timedelta(seconds=119)

    twilio.opted_out.add("+250788123123")
    Msg.objects.update(next_attempt=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.tick()
    msg.refresh_from_db()
    bob.refresh_from_db()
    assert (msg.status, bob.status) == ("F", ContactStatus.STOPPED)

    logs = " ".join(str(log.http_logs) for log in ChannelLog.objects.filter(channel=channel))
    assert "Messages.json" in logs
    basic = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    for secret in (AUTH_TOKEN, basic, channel.callback_secret):
        assert secret not in logs
