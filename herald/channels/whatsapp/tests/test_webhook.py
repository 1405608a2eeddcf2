"""WhatsApp's webhook against a live Herald: FakeWhatsApp makes Meta's GET handshake and signed POSTs."""

import pytest

from herald.channels.callbacks import callback_urls
from herald.channels.models import ChannelLog
from herald.channels.registry import get_type
from herald.contacts.models import ContactStatus
from herald.msgs.models import Msg, MsgStatus
from herald.testing.factories import make_msg
from herald.testing.providers.whatsapp import APP_SECRET, TOKEN

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def url(channel, live_server, settings):
    settings.BASE_URL = live_server.url
    return callback_urls(channel)["webhook"]


@pytest.fixture
def sent(channel, bob):
    msg = make_msg(bob, "Hi")
    msg.channel = channel
    result = get_type("whatsapp").send(channel, msg)
    Msg.objects.filter(id=msg.id).update(channel=channel, external_id=result.external_id, status=MsgStatus.WIRED)
    return Msg.objects.get(id=msg.id)


def status(wamid, name, **extra):
    return {"id": wamid, "status": name, "timestamp": "1700000000", "recipient_id": "250788123123", **extra}


def test_the_verify_handshake_answers_the_challenge_for_the_right_token_only(whatsapp, url):
    right = whatsapp.verify(url, challenge="1158201444")
    assert (right.status_code, right.text, right.headers["content-type"]) == (200, "1158201444", "text/plain")

    wrong = whatsapp.verify(url, token="guess")
    assert wrong.status_code == 403
    assert wrong.json()["error"] == "hub.verify_token is not this channel's verify_token"


def test_statuses_move_the_message_forward_to_read(whatsapp, url, sent):
    for name, expected in (("sent", MsgStatus.SENT), ("delivered", MsgStatus.DELIVERED), ("read", MsgStatus.READ)):
        response = whatsapp.webhook(url, {"statuses": [status(sent.external_id, name)]})
        assert response.status_code == 200, response.content
        sent.refresh_from_db()
        assert sent.status == expected
    # A late "delivered" changes nothing: forward only.
    whatsapp.webhook(url, {"statuses": [status(sent.external_id, "delivered")]})
    sent.refresh_from_db()
    assert sent.status == MsgStatus.READ


def test_a_failed_status_keeps_whatsapps_reason_and_131050_stops_the_contact(whatsapp, url, sent):
    error = {"code": 131050, "title": "Unable to deliver the message", "message": "user stopped marketing"}
    response = whatsapp.webhook(url, {"statuses": [status(sent.external_id, "failed", errors=[error])]})

    assert response.status_code == 200, response.content
    sent.refresh_from_db()
    assert (sent.status, sent.error_detail) == (
        MsgStatus.FAILED,
        "WhatsApp error 131050: Unable to deliver the message",
    )
    assert sent.contact.status == ContactStatus.STOPPED


def test_a_status_for_an_unknown_message_is_accepted_and_ignored(whatsapp, url):
    response = whatsapp.webhook(url, {"statuses": [status("wamid.unknown", "delivered")]})
    assert response.status_code == 200
    assert (
        response.json()["data"][0]["ignored"]
        == "no message with provider id wamid.unknown was sent through this channel"
    )


def test_inbound_text_and_button_reply_are_stored_once_per_wamid(whatsapp, url, channel):
    contacts = [{"profile": {"name": "Ann"}, "wa_id": "250788555555"}]
    text = {
        "from": "250788555555",
        "id": "wamid.in1",
        "timestamp": "1700000000",
        "type": "text",
        "text": {"body": "Hello"},
    }
    button = {"from": "250788555555", "id": "wamid.in2", "timestamp": "1700000060", "type": "interactive",
              "interactive": {"type": "button_reply", "button_reply": {"id": "0", "title": "Yes"}}}  # fmt: skip

    assert whatsapp.webhook(url, {"contacts": contacts, "messages": [text, button]}).status_code == 200
    assert whatsapp.webhook(url, {"contacts": contacts, "messages": [text]}).status_code == 200  # Meta retries

    incoming = list(Msg.objects.incoming().filter(channel=channel, external_id__startswith="wamid.in").order_by("id"))
    assert [(m.text, m.external_id, m.contact_urn.identity) for m in incoming] == [
        ("Hello", "wamid.in1", "whatsapp:250788555555"),
        ("Yes", "wamid.in2", "whatsapp:250788555555"),
    ]
    assert incoming[0].sent_on.timestamp() == 1700000000


def test_a_change_for_another_phone_number_is_skipped(whatsapp, url):
    text = {"from": "250788555555", "id": "wamid.x", "timestamp": "1700000000", "type": "text", "text": {"body": "Hi"}}
    response = whatsapp.webhook(url, {"metadata": {"phone_number_id": "999"}, "messages": [text]})
    assert response.status_code == 200
    assert not Msg.objects.incoming().filter(external_id="wamid.x").exists()


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "sha1=abc"])
def test_a_wrong_or_missing_signature_is_403_and_changes_nothing(whatsapp, url, sent, signature):
    response = whatsapp.webhook(url, {"statuses": [status(sent.external_id, "read")]}, signature=signature)

    assert response.status_code == 403
    sent.refresh_from_db()
    assert sent.status == MsgStatus.WIRED


def test_signed_with_another_secret_is_403(whatsapp, url, sent):
    response = whatsapp.webhook(url, {"statuses": [status(sent.external_id, "read")]}, secret="not-the-app-secret")
    assert response.status_code == 403


def test_no_secret_reaches_the_channel_logs(whatsapp, url, channel, sent):
    whatsapp.webhook(url, {"statuses": [status(sent.external_id, "read")]})
    logs = str(list(ChannelLog.objects.filter(channel=channel).values("http_logs", "errors")))
    assert channel.callback_secret not in logs
    assert APP_SECRET not in logs
    assert TOKEN not in logs


def test_a_reaction_is_skipped(whatsapp, url, channel):
    location = {"from": "250788555555", "id": "wamid.loc", "timestamp": "1700000000", "type": "location",
                "location": {"latitude": -1.95, "longitude": 30.06}}  # fmt: skip
    reaction = {"from": "250788555555", "id": "wamid.re", "timestamp": "1700000000", "type": "reaction",
                "reaction": {"message_id": "wamid.loc", "emoji": "👍"}}  # fmt: skip

    assert whatsapp.webhook(url, {"messages": [location, reaction]}).status_code == 200

    (msg,) = Msg.objects.incoming().filter(external_id__in=["wamid.loc", "wamid.re"])
    assert (msg.external_id, msg.text) == ("wamid.loc", "")
