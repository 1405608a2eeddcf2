"""Twilio's signed webhooks at /c/tw/<channel uuid>/<secret>/<status|receive>: reports move a message forward,
incoming messages are stored with their media, opt-outs stop the contact, and a wrong signature changes nothing."""

from urllib.parse import urlencode

import pytest
from django.test import Client

from herald.channels.models import ChannelLog
from herald.contacts.models import Contact, ContactStatus
from herald.msgs.models import Msg, MsgStatus
from herald.testing.factories import make_msg
from herald.testing.providers.twilio import ACCOUNT_SID, SENDER, sign

TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'


def path(channel, action, query=""):
    return f"/c/tw/{channel.uuid}/{channel.callback_secret}/{action}" + query


def post(channel, action, form, query="", token=None, signature=None):
    """A callback as Twilio makes it: a urlencoded POST signed over http://testserver + the path."""
    url = path(channel, action, query)
    signature = (
        signature
        if signature is not None
        else sign(token or channel.config["auth_token"], "http://testserver" + url, form)
    )
    return Client().post(
        url, urlencode(form), content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=signature
    )


@pytest.fixture
def wired(channel, bob):
    return make_msg(bob, "Hello", channel=channel, status=MsgStatus.WIRED, external_id="SM" + "1" * 32)


def status_form(wired, status, **extra):
    return {"AccountSid": ACCOUNT_SID, "MessageSid": wired.external_id, "MessageStatus": status, "To": "+250788123123",
            "From": SENDER, **extra}  # fmt: skip


def test_reports_move_the_message_forward_and_are_answered_with_twiml(channel, wired):
    query = f"?id={wired.uuid}"
    for status, expected in [("queued", "W"), ("sent", "S"), ("delivered", "D"), ("sent", "D")]:
        response = post(channel, "status", status_form(wired, status), query)
        assert (response.status_code, response.content, response["Content-Type"]) == (200, TWIML, "text/xml")
        wired.refresh_from_db()
        assert wired.status == expected


def test_a_report_without_the_id_finds_the_message_by_its_sid(channel, wired):
    assert post(channel, "status", status_form(wired, "delivered")).status_code == 200
    wired.refresh_from_db()
    assert wired.status == "D"


def test_undelivered_fails_with_twilios_code(channel, wired):
    form = status_form(wired, "undelivered", ErrorCode="30003", ErrorMessage="Unreachable destination handset")
    assert post(channel, "status", form, f"?id={wired.uuid}").status_code == 200
    wired.refresh_from_db()
    assert (wired.status, wired.error_detail) == ("F", "Twilio error 30003: Unreachable destination handset")


def test_a_canceled_message_fails(channel, wired):
    assert post(channel, "status", status_form(wired, "canceled"), f"?id={wired.uuid}").status_code == 200
    wired.refresh_from_db()
    assert (wired.status, wired.error_detail) == ("F", "Twilio reported the message canceled")


def test_a_failure_for_21610_also_stops_the_contact(channel, wired, bob):
    assert (
        post(channel, "status", status_form(wired, "failed", ErrorCode="21610"), f"?id={wired.uuid}").status_code == 200
    )
    wired.refresh_from_db()
    bob.refresh_from_db()
    assert (wired.status, wired.error_detail, bob.status) == ("F", "Twilio error 21610", ContactStatus.STOPPED)


def test_a_report_for_an_unknown_message_is_accepted_ignored_and_logged(channel, wired):
    form = status_form(wired, "delivered", MessageSid="SM" + "9" * 32)
    response = post(channel, "status", form)
    assert (response.status_code, response.content) == (200, TWIML)
    wired.refresh_from_db()
    assert wired.status == "W"
    (log,) = ChannelLog.objects.filter(channel=channel)
    assert "SM" + "9" * 32 in str(log.http_logs)


@pytest.mark.parametrize("signature", ["", "bm90IGl0", "forged"])
def test_a_missing_or_wrong_signature_is_a_403_that_changes_nothing(channel, wired, signature):
    form = status_form(wired, "delivered")
    if signature == "forged":
        response = post(channel, "status", form, f"?id={wired.uuid}", token="someone-elses-token")
    else:
        response = post(channel, "status", form, f"?id={wired.uuid}", signature=signature)
    assert response.status_code == 403
    assert "X-Twilio-Signature" in response.json()["error"]
    wired.refresh_from_db()
    assert wired.status == "W"
    assert not Msg.objects.incoming().exists()


def test_a_signature_over_other_params_is_refused(channel):
    form = {"From": "+250788123123", "Body": "Hi", "MessageSid": "SM" + "2" * 32}
    signature = sign(
        channel.config["auth_token"], "http://testserver" + path(channel, "receive"), {**form, "Body": "Bye"}
    )
    assert post(channel, "receive", form, signature=signature).status_code == 403
    assert not Msg.objects.incoming().exists()


def test_an_incoming_mms_is_stored_with_its_media_once_per_sid(channel, workspace):
    form = {"AccountSid": ACCOUNT_SID, "MessageSid": "SM" + "3" * 32, "From": "+250788555555", "To": SENDER,
            "Body": "Look", "NumMedia": "2", "MediaUrl0": "https://api.twilio.com/media/0",
            "MediaContentType0": "image/jpeg", "MediaUrl1": "https://api.twilio.com/media/1",
            "MediaContentType1": "video/mp4"}  # fmt: skip
    for _ in range(2):  # Twilio retries a webhook: one message
        response = post(channel, "receive", form)
        assert (response.status_code, response.content) == (200, TWIML)
    (msg,) = Msg.objects.incoming()
    assert (msg.text, msg.external_id, str(msg.contact_urn.identity)) == ("Look", "SM" + "3" * 32, "tel:+250788555555")
    assert msg.attachments == ["image/jpeg:https://api.twilio.com/media/0", "video/mp4:https://api.twilio.com/media/1"]


def test_advanced_opt_out_stop_stops_the_contact_whatever_the_word(channel, bob):
    form = {"MessageSid": "SM" + "4" * 32, "From": "+250788123123", "Body": "ARRET", "OptOutType": "STOP"}
    assert post(channel, "receive", form).status_code == 200
    bob.refresh_from_db()
    assert bob.status == ContactStatus.STOPPED

    form = {"MessageSid": "SM" + "5" * 32, "From": "+250788123123", "Body": "REPRENDRE", "OptOutType": "START"}
    assert post(channel, "receive", form).status_code == 200
    bob.refresh_from_db()
    assert bob.status == ContactStatus.ACTIVE


def test_bad_forms_are_a_400(channel):
    assert post(channel, "receive", {"Body": "no sender", "MessageSid": "SM1"}).status_code == 400
    form = {"From": "+250788123123", "MessageSid": "SM1", "NumMedia": "x"}
    assert post(channel, "receive", form).status_code == 400
    assert post(channel, "status", {"MessageSid": "SM1", "MessageStatus": "exploded"}).status_code == 400
    assert not Msg.objects.incoming().exists()
    assert not Contact.objects.filter(urns__identity="tel:+250788123123").exists()


def test_fake_twilio_calls_a_live_herald(live_server, settings, channel, wired, twilio):
    settings.BASE_URL = live_server.url
    response = twilio.signed_call_back(live_server.url + path(channel, "status", f"?id={wired.uuid}"),
                                       status_form(wired, "delivered"))  # fmt: skip
    assert (response.status_code, response.content) == (200, TWIML)
    wired.refresh_from_db()
    assert wired.status == "D"
