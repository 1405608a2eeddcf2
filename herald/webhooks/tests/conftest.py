import pytest

from herald.webhooks import events


@pytest.fixture(autouse=True)
def fresh_subscriptions():
    """Each test reads the subscriptions afresh (a snapshot is kept a few seconds per process)."""
    events.forget_subscriptions()
    yield
    events.forget_subscriptions()
