"""Sending through the Cloud API against FakeWhatsApp: the request, byte for byte, and each error's outcome."""

from datetime import timedelta

import httpx
import pytest

from herald.channels.base import PermanentSendError, RecipientStopped, SendResult, TransientSendError
from herald.channels.registry import get_type
from herald.channels.whatsapp.tests.conftest import wrote
from herald.testing.factories import make_contact, make_media, make_msg
from herald.testing.gateway import drop
from herald.testing.providers.base import json_reply
from herald.testing.providers.whatsapp import PHONE_NUMBER_ID, TOKEN, graph_error

WHATSAPP = get_type("whatsapp")
ENVELOPE = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "250788123123"}


def send(channel, msg):
    msg.channel = channel
    return WHATSAPP.send(channel, msg)


def test_a_text_is_posted_as_json_with_the_bearer_token(channel, bob, whatsapp):
    assert send(channel, make_msg(bob, "Hello café")) == SendResult(external_id="wamid.HBgM000000000001")

    (request,) = whatsapp.requests
    assert (request.method, request.path) == ("POST", f"/{PHONE_NUMBER_ID}/messages")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.json == {**ENVELOPE, "type": "text", "text": {"body": "Hello café", "preview_url": False}}


def test_media_goes_by_link_with_the_text_as_first_caption(channel, bob, whatsapp):
    msg = make_msg(
        bob, "Look", attachments=["image/jpeg:https://example.com/a.jpg", "application/pdf:https://example.com/b.pdf"]
    )

    assert send(channel, msg).external_id == "wamid.HBgM000000000001"

    assert [r.json for r in whatsapp.requests] == [
        {**ENVELOPE, "type": "image", "image": {"link": "https://example.com/a.jpg", "caption": "Look"}},
        {**ENVELOPE, "type": "document", "document": {"link": "https://example.com/b.pdf"}},
    ]


def test_up_to_three_short_quick_replies_are_reply_buttons(channel, bob, whatsapp):
    send(channel, make_msg(bob, "Coming?", quick_replies=[{"text": "Yes"}, {"text": "No"}]))

    (request,) = whatsapp.requests
    assert request.json == {**ENVELOPE, "type": "interactive", "interactive": {
        "type": "button", "body": {"text": "Coming?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "0", "title": "Yes"}},
                               {"type": "reply", "reply": {"id": "1", "title": "No"}}]}}}  # fmt: skip


def test_more_quick_replies_are_a_list_and_too_many_are_appended(channel, bob, whatsapp):
    send(channel, make_msg(bob, "Pick", quick_replies=[{"text": f"Option {i}"} for i in range(5)]))
    send(channel, make_msg(bob, "Pick", quick_replies=[{"text": f"O{i}"} for i in range(11)]))

    listed, appended = whatsapp.requests
    assert listed.json["interactive"]["type"] == "list"
    assert listed.json["interactive"]["action"] == {
        "button": "Menu", "sections": [{"rows": [{"id": str(i), "title": f"Option {i}"} for i in range(5)]}]
    }  # fmt: skip
    assert appended.json["text"]["body"] == "Pick\n" + "\n".join(f"O{i}" for i in range(11))


def test_the_fake_refuses_what_whatsapp_refuses(whatsapp):
    url = f"{whatsapp.base_url}/{PHONE_NUMBER_ID}/messages"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    four_buttons = {
        "type": "button",
        "body": {"text": "x"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": str(i), "title": "t"}} for i in range(4)]},
    }
    cases = [({"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}}, "to"),
             ({**ENVELOPE, "type": "text", "text": {"body": "x" * 4097}}, "4096"),
             ({**ENVELOPE, "type": "interactive", "interactive": four_buttons}, "between 1 and 3")]  # fmt: skip
    for body, hint in cases:
        answer = httpx.post(url, json=body, headers=auth)
        assert answer.status_code == 400
        error = answer.json()["error"]
        assert (error["code"], error["message"]) == (100, "(#100) Invalid parameter")
        assert hint in error["error_data"]["details"]
    assert httpx.post(url, json=cases[0][0], headers={"Authorization": "Bearer wrong"}).json()["error"]["code"] == 190


def test_a_contact_silent_for_more_than_24_hours_fails_before_the_call(channel, workspace, whatsapp):
    alice = make_contact(workspace, "Alice", urns=["whatsapp:250788000001"])
    never = make_contact(workspace, "Nev", urns=["whatsapp:250788000002"])
    wrote(alice, channel, ago=timedelta(hours=25))

    for contact in (alice, never):
        with pytest.raises(PermanentSendError) as caught:
            send(channel, make_msg(contact, "Hi"))
        assert caught.value.detail == (
            "outside WhatsApp's 24-hour customer-service window: only approved templates can be sent"
        )
    assert whatsapp.requests == []


def test_oversized_media_fails_before_the_call(channel, bob, whatsapp, media_root):
    media = make_media(bob.workspace)
    media.size = 6 * 1024 * 1024
    media.save()
    msg = make_msg(bob, "Big", attachments=[f"image/jpeg:{media.url}"])
    with pytest.raises(PermanentSendError, match="WhatsApp takes image attachments of at most 5 MB"):
        send(channel, msg)
    assert whatsapp.requests == []


@pytest.mark.parametrize(
    ("answer", "error", "detail"),
    [
        (graph_error(400, 131047, "Re-engagement message"), PermanentSendError, "more than 24 hours"),
        (graph_error(400, 131026, "Message undeliverable"), PermanentSendError, "WhatsApp error 131026"),
        (graph_error(400, 131050, "Unable to deliver the message"), RecipientStopped, "WhatsApp error 131050"),
        (graph_error(400, 130429, "Rate limit hit"), TransientSendError, "WhatsApp error 130429"),
        (graph_error(400, 131056, "Pair rate limit hit"), TransientSendError, "WhatsApp error 131056"),
        (graph_error(400, 80007, "Rate limit issues"), TransientSendError, "WhatsApp error 80007"),
        (json_reply(429, {}, {"Retry-After": "7"}), TransientSendError, "HTTP 429"),
        (graph_error(401, 190, "Error validating access token"), PermanentSendError, "access_token is invalid"),
        (graph_error(400, 100, "(#100) Invalid parameter"), PermanentSendError, "WhatsApp error 100"),
        (graph_error(500, 131000, "Something went wrong"), TransientSendError, "WhatsApp error 131000"),
        (graph_error(500, 2, "Service temporarily unavailable"), TransientSendError, "WhatsApp error 2"),
        (json_reply(503, {}), TransientSendError, "HTTP 503"),
    ],
)
def test_whatsapp_errors_map_to_retry_fail_or_stop(channel, bob, whatsapp, answer, error, detail):
    whatsapp.will(answer)
    with pytest.raises(error) as caught:
        send(channel, make_msg(bob, "Hi"))
    assert type(caught.value) is error
    assert detail in caught.value.detail
    if answer.status == 429:
        assert caught.value.retry_after == 7


def test_a_wrong_token_is_the_fakes_own_190_refusal(channel, bob, whatsapp):
    channel.config["access_token"] = "expired"
    with pytest.raises(PermanentSendError, match="WhatsApp error 190: Invalid OAuth access token"):
        send(channel, make_msg(bob, "Hi"))


def test_no_answer_is_retried(channel, bob, whatsapp):
    whatsapp.will(drop())
    with pytest.raises(TransientSendError):
        send(channel, make_msg(bob, "Hi"))
