import pytest

from herald.channels.registry import create_channel
from herald.testing.gateway import TEST_SEND_TIMEOUT
from herald.testing.providers.vonage import FakeVonage

SIGNATURE_SECRET = "s1gn4ture-S3cret-77"


@pytest.fixture
def vonage(settings):
    """FakeVonage on 127.0.0.1, signing its webhooks, with the channel timeouts shortened (as `gateway` does)."""
    settings.CHANNEL_SEND_TIMEOUT = settings.CHANNEL_CONNECT_TIMEOUT = TEST_SEND_TIMEOUT
    with FakeVonage(signature_secret=SIGNATURE_SECRET) as running:
        yield running


def vonage_channel(workspace, fake, **config):
    return create_channel(
        workspace,
        "vonage",
        "Vonage",
        address="+250788000000",
        config={"base_url": fake.base_url, "api_key": fake.api_key, "api_secret": fake.api_secret, **config},
    )


@pytest.fixture
def channel(workspace, vonage):
    created = vonage_channel(workspace, vonage, signature_secret=SIGNATURE_SECRET)
    vonage.requests.clear()  # the credentials check at creation (test_channel_add.py pins it): tests read sends
    return created
