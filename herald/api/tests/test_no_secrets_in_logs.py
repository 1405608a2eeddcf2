"""API tokens and gateway credentials never reach the logs, whatever happens: good and bad credentials, sends that
succeed or fail, delivery reports that are refused."""

import base64
import logging

import pytest

from herald.channels.callbacks import callback_urls
from herald.channels.registry import create_channel
from herald.testing.factories import create_user_token
from herald.testing.fixtures import token_client
from herald.testing.gateway import reply

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

GATEWAY_SECRET = "Bearer gw-secret-5f1c9a7e"


def test_tokens_and_gateway_credentials_are_never_logged(workspace, gateway, caplog, client):
    caplog.set_level(logging.DEBUG)
    channel = create_channel(
        workspace,
        "external",
        "Gateway",
        schemes=["tel"],
        config={
            "send_url": f"{gateway.url}/send",
            "send_authorization": GATEWAY_SECRET,
            "headers": {"X-Api-Key": "gw-key-0b8e2d"},
        },
    )
    _, key = create_user_token(workspace, email="ops@example.com")
    api = token_client(key)
    wrong_key = "f" * 40

    gateway.will(reply(500, "try later"), reply(400, "rejected"))
    assert (
        api.post("/api/v2/broadcasts.json", {"text": "Hi", "urns": ["tel:+250788111111"]}, format="json").status_code
        == 201
    )
    assert (
        api.post("/api/v2/broadcasts.json", {"text": "Hi", "urns": ["tel:+250788222222"]}, format="json").status_code
        == 201
    )
    assert api.post("/api/v2/broadcasts.json", {"text": ""}, format="json").status_code == 400
    assert token_client(wrong_key).get("/api/v2/broadcasts.json").status_code == 403
    basic = base64.b64encode(f"eve@example.com:{key}".encode()).decode()
    assert client.get("/api/v2/broadcasts.json", HTTP_AUTHORIZATION=f"Basic {basic}").status_code == 403
    assert client.post(callback_urls(channel)["delivered"], {"id": "not-a-message"}).status_code == 400
    channel.is_active = False
    channel.save(update_fields=["is_active"])
    assert client.post(callback_urls(channel)["delivered"], {"id": "not-a-message"}).status_code == 403

    assert len(gateway.requests) == 2  # both sends reached the gateway, with the credentials ...
    assert gateway.requests[0].headers["authorization"] == GATEWAY_SECRET
    logged = caplog.text
    assert logged  # ... and the failures were logged, without any secret
    for secret in (key, wrong_key, basic, GATEWAY_SECRET, "gw-key-0b8e2d", channel.callback_secret):
        assert secret not in logged
