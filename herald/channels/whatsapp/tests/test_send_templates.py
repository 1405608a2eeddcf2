"""A message that carries a template (`Msg.templating`, made at fan-out) goes to WhatsApp as a `template` message,
inside or outside the 24-hour window; what WhatsApp refuses of a template send fails the message with its code."""

from datetime import timedelta

import pytest

from herald.channels.base import PermanentSendError, SendResult
from herald.channels.registry import get_type
from herald.channels.whatsapp.tests.conftest import wrote
from herald.testing.factories import make_contact, make_msg
from herald.testing.providers.whatsapp import PHONE_NUMBER_ID

WHATSAPP = get_type("whatsapp")
ENVELOPE = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "250788123123"}


def templating(name="appointment", language="en_US", variables=("Bob", "Monday")):
    return {
        "template": {"uuid": "019ad3b0-5c2e-7d41-9a0f-3e6b1c8d2f47", "name": name},
        "language": language,
        "namespace": "",
        "variables": list(variables),
    }


def send(channel, msg):
    msg.channel = channel
    return WHATSAPP.send(channel, msg)


@pytest.mark.parametrize("last_wrote", [None, timedelta(minutes=1), timedelta(days=3)])
def test_a_templated_message_goes_as_the_template_inside_or_outside_the_window(
    workspace, channel, whatsapp, last_wrote
):
    bob = make_contact(workspace, "Bob", urns=["whatsapp:250788123123"])
    if last_wrote is not None:
        wrote(bob, channel, last_wrote)

    result = send(channel, make_msg(bob, "Hi Bob, see you Monday", templating=templating()))

    assert result == SendResult(external_id="wamid.HBgM000000000001")
    (request,) = whatsapp.requests
    assert (request.method, request.path) == ("POST", f"/{PHONE_NUMBER_ID}/messages")
    assert request.json == {**ENVELOPE, "type": "template", "template": {
        "name": "appointment", "language": {"policy": "deterministic", "code": "en_US"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Bob"},
                                                       {"type": "text", "text": "Monday"}]}]}}  # fmt: skip


def test_a_template_without_variables_has_no_components(workspace, channel, whatsapp):
    bob = make_contact(workspace, "Bob", urns=["whatsapp:250788123123"])

    send(channel, make_msg(bob, "Welcome", templating=templating("welcome", variables=())))

    assert whatsapp.requests[0].json["template"] == {
        "name": "welcome", "language": {"policy": "deterministic", "code": "en_US"}
    }  # fmt: skip


@pytest.mark.parametrize(
    ("sent", "code", "hint"),
    [
        (templating(name="nope"), 132001, "no such template in this language"),
        (templating(language="de"), 132001, "no such template in this language"),
        (
            templating(name="promo", variables=("x",)),
            132001,
            "no such template in this language",
        ),  # rejected: not sendable
        (templating(variables=("Bob",)), 132000, "the template's variables don't match its parameters"),
        (templating(variables=("Bob", "")), 132012, "a parameter's format doesn't match the template's"),
    ],
)
def test_a_template_send_whatsapp_refuses_fails_with_its_code(workspace, channel, whatsapp, sent, code, hint):
    bob = make_contact(workspace, "Bob", urns=["whatsapp:250788123123"])

    with pytest.raises(PermanentSendError) as error:
        send(channel, make_msg(bob, "Hi", templating=sent))

    assert error.value.detail.startswith(f"WhatsApp error {code}: (#{code}) ")
    # WhatsApp's code and words, then what to look at.
    assert error.value.detail.endswith(
        f": {hint}" if code != 132001 else f": {hint}: `herald channel sync-templates` reads what WhatsApp has"
    )
    assert len(whatsapp.requests) == 1


def test_a_message_without_a_template_outside_the_window_still_fails_before_the_call(workspace, channel, whatsapp):
    bob = make_contact(workspace, "Bob", urns=["whatsapp:250788123123"])

    with pytest.raises(PermanentSendError, match="only approved templates can be sent"):
        send(channel, make_msg(bob, "Hi"))
    assert whatsapp.requests == []
