"""Sending through FakeVonage's SMS API on 127.0.0.1: the request, parameter by parameter, and how each of Vonage's
answers is classed."""

import pytest

from herald.channels.base import PermanentSendError, SendResult, TransientSendError
from herald.channels.callbacks import callback_urls
from herald.channels.registry import get_type
from herald.testing.factories import make_msg
from herald.testing.gateway import reply
from herald.testing.providers.base import json_reply

from .conftest import vonage_channel

VONAGE = get_type("vonage")


def send(channel, msg):
    msg.channel = channel
    return VONAGE.send(channel, msg)


def test_a_message_is_one_form_post_with_the_receipt_url_and_its_uuid_as_client_ref(channel, vonage, bob, settings):
    settings.BASE_URL = "https://herald.example.org"
    msg = make_msg(bob, "Hello Bob")

    result = send(channel, msg)

    [request] = vonage.requests
    assert (request.method, request.path) == ("POST", "/sms/json")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form_lists == {
        "api_key": [vonage.api_key],
        "api_secret": [vonage.api_secret],
        "from": ["250788000000"],
        "to": ["250788123123"],
        "text": ["Hello Bob"],
        "type": ["text"],
        "client-ref": [str(msg.uuid)],
        "status-report-req": ["1"],
        "callback": [callback_urls(channel)["receipt"]],
    }
    assert callback_urls(channel)["receipt"].startswith("https://herald.example.org/c/nx/")
    assert result == SendResult(external_id=vonage.sent[0]["message-ids"][0])


def test_without_herald_base_url_vonage_uses_the_accounts_own_receipt_webhook(channel, vonage, bob, settings):
    settings.BASE_URL = ""

    send(channel, make_msg(bob, "Hello"))

    assert "callback" not in vonage.requests[0].form


def test_a_text_outside_gsm7_goes_as_unicode_and_a_long_one_is_known_by_its_first_parts_id(channel, vonage, bob):
    text = "Muraho 😀 " * 20  # UCS-2: 200 units, three parts

    result = send(channel, make_msg(bob, text))

    assert vonage.requests[0].form["type"] == "unicode"
    assert vonage.requests[0].form["text"] == text
    [sent] = vonage.sent
    assert len(sent["message-ids"]) == 3
    assert result == SendResult(external_id=sent["message-ids"][0])


def test_gsm7_extension_characters_stay_text(channel, vonage, bob):
    send(channel, make_msg(bob, "Price: 5€ [promo] ~ café"))

    assert vonage.requests[0].form["type"] == "text"


def test_attachments_and_quick_replies_are_appended_to_the_text(channel, vonage, bob):
    msg = make_msg(
        bob,
        "Pick one",
        attachments=["image/jpeg:https://example.com/a.jpg"],
        quick_replies=[{"type": "text", "text": "Yes"}, {"type": "text", "text": "No"}],
    )

    send(channel, msg)

    assert vonage.requests[0].form["text"] == "Pick one\nhttps://example.com/a.jpg\nYes\nNo"


@pytest.mark.parametrize(
    ("status", "error_text", "expected"),
    [
        ("1", "Throughput Rate Exceeded - please wait [ 1000 ] and retry", TransientSendError),
        ("5", "Internal Error", TransientSendError),
        ("2", "Missing to param", PermanentSendError),
        ("3", "Invalid to address", PermanentSendError),
        ("6", "Invalid Message", PermanentSendError),
        ("7", "Number Barred", PermanentSendError),
        ("8", "Account Barred", PermanentSendError),
        ("15", "Illegal Sender Address - rejected", PermanentSendError),
        ("29", "Non White-listed Destination - rejected", PermanentSendError),
    ],
)
def test_each_vonage_status_is_transient_or_permanent_with_its_code_and_text(
    channel, vonage, bob, status, error_text, expected
):
    vonage.reject_next(int(status), error_text)

    with pytest.raises(expected) as raised:
        send(channel, make_msg(bob))

    assert type(raised.value) is expected
    assert raised.value.detail.startswith(f"Vonage status {status} (")
    assert error_text in raised.value.detail
    assert vonage.sent == []


def test_wrong_credentials_fail_permanently_saying_which_keys(workspace, vonage, bob):
    channel = vonage_channel(workspace, vonage)
    channel.config["api_secret"] = "not-the-secret"

    with pytest.raises(PermanentSendError) as raised:
        send(channel, make_msg(bob))

    assert raised.value.detail == (
        "Vonage status 4 (Invalid Credentials): Bad Credentials; check the channel's api_key and api_secret"
    )


def test_an_account_without_balance_fails_permanently_saying_so(channel, vonage, bob):
    vonage.balance = 0.0

    with pytest.raises(PermanentSendError) as raised:
        send(channel, make_msg(bob))

    assert type(raised.value) is PermanentSendError
    assert raised.value.detail == (
        "Vonage status 9 (Partner Quota Violation): Quota Exceeded - rejected;"
        " the Vonage account has insufficient balance: top it up"
    )


def test_a_429_from_in_front_of_vonage_is_retried_after_its_retry_after(channel, vonage, bob):
    vonage.will(json_reply(429, {"title": "Too Many Requests"}, {"Retry-After": "7"}))

    with pytest.raises(TransientSendError) as raised:
        send(channel, make_msg(bob))

    assert raised.value.retry_after == 7.0


def test_an_answer_that_is_not_the_sms_apis_is_a_permanent_failure(channel, vonage, bob):
    vonage.will(reply(200, "<html>captive portal</html>"))

    with pytest.raises(PermanentSendError) as raised:
        send(channel, make_msg(bob))

    assert raised.value.detail == "unexpected answer from Vonage: <html>captive portal</html>"


def test_the_benchmarks_channel_is_unlimited_and_sends_to_the_fake(workspace, vonage, bob):
    from herald.testing.providers import vonage as hook  # noqa: PLC0415 — the benchmark's own entry point

    channel = hook.bench_channel(workspace, vonage)

    assert (channel.tps, channel.channel_type, hook.FAKE) == (None, "vonage", type(vonage))
    assert send(channel, make_msg(bob)).external_id == vonage.sent[0]["message-ids"][0]


def test_a_config_broken_by_hand_fails_the_message_before_any_call(channel, vonage, bob):
    del channel.config["api_secret"]

    with pytest.raises(PermanentSendError) as raised:
        send(channel, make_msg(bob))

    assert raised.value.detail.startswith("channel config: api_secret is required for channel type 'vonage'")
    assert vonage.requests == []
