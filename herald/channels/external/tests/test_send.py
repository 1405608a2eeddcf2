"""The external sender against a real HTTP server on 127.0.0.1: what it sends, and how each answer is classed."""

import json
import time

import pytest

from herald.channels.base import PermanentSendError, SendResult, TransientSendError
from herald.channels.models import Channel
from herald.channels.registry import get_type
from herald.testing.factories import make_msg
from herald.testing.gateway import drop, garbage, hang, reply, unreachable_url

EXTERNAL = get_type("external")
TRICKY = 'Hi Bob & "friends" <b>café</b> 100%+{{to}}'


def external_channel(workspace, send_url, address="+250788000000", **config):
    config = EXTERNAL.validate_config({"send_url": send_url, **config})
    return Channel.objects.create(
        workspace=workspace, channel_type="external", name="Gateway", address=address, schemes=["tel"], config=config
    )


def send(channel, msg):
    msg.channel = channel
    return EXTERNAL.send(channel, msg)


@pytest.fixture
def msg(bob):
    return make_msg(
        bob,
        TRICKY,
        attachments=["image/jpeg:https://example.com/a.jpg"],
        quick_replies=[{"type": "text", "text": "Yes & no"}, {"type": "text", "text": "Later"}],
    )


# docs/COMPATIBILITY.md, C16: one pass, so the text's own {{to}} is sent as written.
def test_default_post_is_urlencoded_with_every_variable(workspace, gateway, msg):
    channel = external_channel(workspace, gateway.url + "/send")

    assert send(channel, msg) == SendResult(external_id=None)

    [request] = gateway.requests
    assert request.method == "POST"
    assert request.path == "/send"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form_lists == {
        "id": [str(msg.uuid)],
        "text": [TRICKY + "\nhttps://example.com/a.jpg"],
        "to": ["+250788123123"],
        "to_no_plus": ["250788123123"],
        "from": ["+250788000000"],
        "from_no_plus": ["250788000000"],
        "channel": [str(channel.uuid)],
        "quick_reply": ["Yes & no", "Later"],
    }


def test_get_fills_the_url_with_url_encoded_values_and_sends_no_body(workspace, gateway, msg):
    url = gateway.url + "/send?to={{to}}&from={{from_no_plus}}&text={{text}}&id={{id}}{{quick_replies}}"
    channel = external_channel(workspace, url, send_method="GET", send_body="ignored={{text}}")

    send(channel, msg)

    [request] = gateway.requests
    assert request.method == "GET"
    assert request.body == b""
    assert "content-type" not in request.headers
    assert request.query == {
        "to": ["+250788123123"],
        "from": ["250788000000"],
        "text": [TRICKY + "\nhttps://example.com/a.jpg"],
        "id": [str(msg.uuid)],
        "quick_reply": ["Yes & no", "Later"],
    }
    # `+` in the number is escaped, so it doesn't arrive as a space.
    assert "to=%2B250788123123" in request.path


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_json_body_values_are_json_strings(workspace, gateway, msg, method):
    body = '{"to": {{to}}, "text": "{{text}}", "id": {{id}}, "replies": {{quick_replies}}, "ch": {{channel}}}'
    channel = external_channel(
        workspace, gateway.url + "/json", send_method=method, content_type="json", send_body=body
    )

    send(channel, msg)

    [request] = gateway.requests
    assert request.method == method
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "to": "+250788123123",
        "text": TRICKY + "\nhttps://example.com/a.jpg",
        "id": str(msg.uuid),
        "replies": ["Yes & no", "Later"],
        "ch": str(channel.uuid),
    }


def test_json_default_body(workspace, gateway, msg):
    channel = external_channel(workspace, gateway.url, content_type="json")

    send(channel, msg)

    sent = gateway.requests[0].json
    assert sent["text"] == TRICKY + "\nhttps://example.com/a.jpg"
    assert sent["to_no_plus"] == "250788123123"
    assert sent["quick_replies"] == ["Yes & no", "Later"]


def test_xml_body_values_are_escaped(workspace, gateway, msg):
    body = '<sms to="{{to}}"><text>{{text}}</text><replies>{{quick_replies}}</replies></sms>'
    channel = external_channel(workspace, gateway.url, content_type="xml", send_body=body)

    send(channel, msg)

    [request] = gateway.requests
    assert request.headers["content-type"] == "text/xml; charset=utf-8"
    assert request.text == (
        '<sms to="+250788123123"><text>Hi Bob &amp; &quot;friends&quot; &lt;b&gt;café&lt;/b&gt; 100%+{{to}}\n'
        "https://example.com/a.jpg</text><replies><item>Yes &amp; no</item><item>Later</item></replies></sms>"
    )


def test_rapidpro_config_keys_and_headers(workspace, gateway, msg):
    channel = external_channel(
        workspace,
        gateway.url,
        method="PUT",
        body="msg={{text}}&session={{session_status}}",
        send_authorization="Token abc",
        headers={"X-Api-Key": "secret", "Content-Type": "application/x-custom"},
    )

    send(channel, msg)

    [request] = gateway.requests
    assert request.method == "PUT"
    assert request.headers["authorization"] == "Token abc"
    assert request.headers["x-api-key"] == "secret"
    assert request.headers["content-type"] == "application/x-custom"  # configured headers win
    assert request.form_lists == {"msg": [TRICKY + "\nhttps://example.com/a.jpg"], "session": [""]}


def test_mt_response_check(workspace, gateway, msg):
    channel = external_channel(workspace, gateway.url, mt_response_check="ACCEPTED")

    gateway.will(reply(200, "status=ACCEPTED id=7"))
    assert send(channel, msg) == SendResult()

    gateway.will(reply(200, "status=QUEUED_LATER"))
    with pytest.raises(PermanentSendError, match="does not contain 'ACCEPTED': status=QUEUED_LATER"):
        send(channel, msg)


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
def test_server_errors_and_throttling_are_transient(workspace, gateway, msg, status):
    channel = external_channel(workspace, gateway.url)
    gateway.will(reply(status, "try later"))

    with pytest.raises(TransientSendError, match=f"gateway answered HTTP {status}: try later"):
        send(channel, msg)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_permanent(workspace, gateway, msg, status):
    channel = external_channel(workspace, gateway.url)
    gateway.will(reply(status, "bad number"))

    with pytest.raises(PermanentSendError, match=f"gateway answered HTTP {status}: bad number"):
        send(channel, msg)


def test_redirects_are_not_followed(workspace, gateway, msg):
    channel = external_channel(workspace, gateway.url)
    gateway.will(reply(302, "", headers={"Location": gateway.url + "/elsewhere"}))

    with pytest.raises(PermanentSendError, match=r"HTTP 302.*redirects are not followed"):
        send(channel, msg)
    assert len(gateway.requests) == 1


def test_a_hanging_gateway_times_out(workspace, gateway, msg):
    channel = external_channel(workspace, gateway.url)
    gateway.will(hang())

    started = time.monotonic()
    with pytest.raises(TransientSendError, match="timed out"):
        send(channel, msg)
    assert time.monotonic() - started < 5  # bounded by the shortened timeout, not the 10 s hang


def test_a_dropped_connection_is_transient(workspace, gateway, msg):
    channel = external_channel(workspace, gateway.url)
    gateway.will(drop())

    with pytest.raises(TransientSendError, match="could not reach gateway"):
        send(channel, msg)


def test_garbage_instead_of_http_is_transient(workspace, gateway, msg):
    channel = external_channel(workspace, gateway.url)
    gateway.will(garbage())

    with pytest.raises(TransientSendError, match="could not reach gateway"):
        send(channel, msg)


def test_a_gateway_that_is_down_is_transient(workspace, gateway, msg):
    channel = external_channel(workspace, unreachable_url())

    with pytest.raises(TransientSendError, match="could not reach gateway"):
        send(channel, msg)


def test_recovers_after_errors_on_the_same_connection_pool(workspace, gateway, msg):
    channel = external_channel(workspace, gateway.url)
    gateway.will(drop(), reply(503), reply(200))

    with pytest.raises(TransientSendError):
        send(channel, msg)
    with pytest.raises(TransientSendError):
        send(channel, msg)
    assert send(channel, msg) == SendResult()
    assert send(channel, msg) == SendResult()
    assert len(gateway.requests) == 4


def test_a_broken_stored_config_fails_permanently_without_a_request(workspace, gateway, msg):
    channel = Channel.objects.create(
        workspace=workspace, channel_type="external", name="Broken", config={"send_url": "ftp://nope"}
    )

    with pytest.raises(PermanentSendError, match="channel config: send_url must be an http"):
        send(channel, msg)
    assert gateway.requests == []


def test_a_message_without_urn_fails_permanently(workspace, gateway, msg):
    channel = external_channel(workspace, gateway.url)
    msg.contact_urn = None

    with pytest.raises(PermanentSendError, match="no URN"):
        send(channel, msg)


def test_non_ascii_text_and_numbers_in_json(workspace, gateway, bob):
    channel = external_channel(workspace, gateway.url, content_type="json")
    msg = make_msg(bob, "Muraho 👋 ñ\u2028end")

    send(channel, msg)

    assert json.loads(gateway.requests[0].body.decode("utf-8"))["text"] == "Muraho 👋 ñ\u2028end"
