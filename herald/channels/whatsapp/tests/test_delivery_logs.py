"""A message sent through the API reaches FakeWhatsApp through the delivery loop; its channel log keeps the request
and the answer but not the access token."""

import pytest

from herald.channels.models import ChannelLog
from herald.msgs.models import Msg, MsgStatus
from herald.testing.providers.whatsapp import APP_SECRET, TOKEN

pytestmark = pytest.mark.usefixtures("eager_tasks")


def test_a_message_is_wired_with_its_wamid_and_the_token_stays_out_of_the_log(
    admin, channel, bob, whatsapp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/api/v2/messages.json", {"contact": str(bob.uuid), "text": "Hello"}, content_type="application/json"
        )
    assert response.status_code == 201, response.content

    msg = Msg.objects.get(uuid=response.json()["uuid"])
    assert (msg.status, msg.external_id, msg.channel_id) == (MsgStatus.WIRED, "wamid.HBgM000000000001", channel.id)
    assert whatsapp.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    (log,) = ChannelLog.objects.filter(channel=channel, msg_uuid=msg.uuid)
    (http,) = log.http_logs
    assert http["url"] == f"{whatsapp.base_url}/{channel.config['phone_number_id']}/messages"
    assert "wamid.HBgM000000000001" in http["response"]
    for secret in (TOKEN, APP_SECRET):
        assert secret not in str(log.http_logs)
