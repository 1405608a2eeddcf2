import pytest

from herald.channels.registry import create_channel
from herald.testing.factories import make_contact, make_msg
from herald.testing.gateway import TEST_SEND_TIMEOUT
from herald.testing.providers.email import FakeSMTP


@pytest.fixture
def smtp(settings):
    """The fake SMTP server, with the channel timeouts shortened as the `gateway` fixture does."""
    settings.CHANNEL_SEND_TIMEOUT = TEST_SEND_TIMEOUT
    settings.CHANNEL_CONNECT_TIMEOUT = TEST_SEND_TIMEOUT
    with FakeSMTP() as running:
        yield running


@pytest.fixture
def mail_channel(workspace, smtp, settings):
    settings.BASE_URL = "https://herald.example.org"
    return create_channel(
        workspace, "email", "Clinic reminders", address="reminders@clinic.example.org", config=smtp.channel_config()
    )


@pytest.fixture
def ann(workspace):
    return make_contact(workspace, "Ann", urns=["mailto:ann@example.com"])


@pytest.fixture
def ann_msg(ann, mail_channel):
    return make_msg(ann, "Hello Ann", channel=mail_channel)
