"""Fixtures for the telegram type: the fake Bot API, a channel pointed at it, and Bob, who started the bot."""

import pytest

from herald.channels.models import Channel
from herald.testing.factories import make_contact
from herald.testing.gateway import TEST_SEND_TIMEOUT
from herald.testing.providers.telegram import TOKEN, FakeTelegram

BOB_CHAT = 1001


@pytest.fixture
def telegram(settings):
    settings.CHANNEL_SEND_TIMEOUT = settings.CHANNEL_CONNECT_TIMEOUT = TEST_SEND_TIMEOUT
    with FakeTelegram() as running:
        yield running


@pytest.fixture
def channel(workspace, telegram):
    # Created directly: `herald channel add` (getMe, setWebhook) is test_channel_add.py.
    return Channel.objects.create(
        workspace=workspace,
        channel_type="telegram",
        name="Bot",
        schemes=["telegram"],
        config={"base_url": telegram.base_url, "bot_token": TOKEN},
    )


@pytest.fixture
def bob(workspace):
    return make_contact(workspace, "Bob", [f"telegram:{BOB_CHAT}"])
