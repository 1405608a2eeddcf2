"""Adding a channel whose type talks to its provider first (Telegram: getMe, then setWebhook), against the fake
Bot API on loopback: the provider's refusal shown on the form with nothing created, as `herald channel add` does."""

import pytest

from herald.channels.models import Channel
from herald.testing.gateway import TEST_SEND_TIMEOUT
from herald.testing.providers.telegram import TOKEN, FakeTelegram

pytestmark = pytest.mark.django_db


@pytest.fixture
def telegram(settings):
    settings.CHANNEL_SEND_TIMEOUT = settings.CHANNEL_CONNECT_TIMEOUT = TEST_SEND_TIMEOUT
    with FakeTelegram() as running:
        yield running


def add(client, telegram, token=TOKEN):
    return client.post(
        "/channels/new/telegram", {"name": "Bot", "config_base_url": telegram.base_url, "config_bot_token": token}
    )


def test_a_token_telegram_refuses_is_shown_and_nothing_is_created(web_client, workspace, telegram):
    response = add(web_client(workspace), telegram, "999:wrong")
    page = response.content.decode()
    assert response.status_code == 400
    assert "Telegram refused the bot token: Unauthorized" in page
    assert "999:wrong" not in page  # the secret field is not sent back
    assert not Channel.objects.exists()
    assert telegram.webhook == {}


def test_the_webhook_is_set_and_said_so(web_client, workspace, telegram, settings):
    settings.BASE_URL = "http://127.0.0.1:8000"  # where Telegram would call back (nothing calls it here)
    client = web_client(workspace)
    response = add(client, telegram)
    channel = Channel.objects.get()
    assert response.status_code == 302
    assert telegram.webhook["url"].startswith(f"http://127.0.0.1:8000/c/tg/{channel.uuid}/{channel.callback_secret}/")
    page = client.get(response.url).content.decode()
    assert "Channel added. Telegram webhook set to" in page
    assert TOKEN not in page


def test_a_webhook_telegram_refuses_removes_the_channel_again(web_client, workspace, telegram, settings):
    settings.BASE_URL = "http://herald.example"  # Telegram takes https only
    response = add(web_client(workspace), telegram)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Channel not added: Telegram refused setWebhook" in page
    assert "An HTTPS URL must be provided" in page
    assert not Channel.objects.exists()
