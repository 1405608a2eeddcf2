import pytest

from herald.testing.gateway import FakeGateway, gateway_channel
from herald.webhooks import events


@pytest.fixture(autouse=True)
def fresh_subscriptions():
    """Each test reads the subscriptions afresh (a snapshot is kept a few seconds per process)."""
    events.forget_subscriptions()
    yield
    events.forget_subscriptions()


@pytest.fixture
def receiver(settings):
    """The webhook receiver: a FakeGateway on 127.0.0.1, with short timeouts and back-off (a module may have its
    own)."""
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOKS_TIMEOUT = 0.5
    settings.WEBHOOKS_BACKOFF_SECONDS = 0.05
    settings.WEBHOOKS_MAX_BACKOFF_SECONDS = 0.2
    with FakeGateway() as running:
        yield running


@pytest.fixture
def sms(workspace, gateway):
    return gateway_channel(workspace, gateway.url)
