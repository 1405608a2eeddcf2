import pytest

from herald.channels.registry import create_channel
from herald.testing.providers.africastalking import API_KEY, USERNAME, FakeAfricasTalking


@pytest.fixture
def africastalking():
    with FakeAfricasTalking() as fake:
        yield fake


@pytest.fixture
def channel(workspace, africastalking):
    config = {"base_url": africastalking.base_url, "username": USERNAME, "api_key": API_KEY}
    return create_channel(workspace, "africastalking", "AT", address="HERALD", country="RW", config=config)
