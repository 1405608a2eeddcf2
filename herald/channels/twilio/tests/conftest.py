"""A FakeTwilio on 127.0.0.1 and a channel pointed at it (Herald's public address: http://testserver)."""

import pytest

from herald.channels.registry import create_channel
from herald.testing.providers.twilio import SENDER, FakeTwilio


@pytest.fixture
def twilio(settings):
    settings.BASE_URL = "http://testserver"
    settings.CHANNEL_SEND_TIMEOUT = 1.0
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def channel(workspace, twilio):
    created = create_channel(
        workspace,
        "twilio",
        "Twilio",
        address=SENDER,
        config={"base_url": twilio.base_url, "account_sid": twilio.account_sid, "auth_token": twilio.auth_token},
    )
    twilio.requests.clear()  # the account check made at creation (test_config.py's)
    return created
