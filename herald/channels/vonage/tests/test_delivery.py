"""A message through the API to FakeVonage and its receipt back, the whole way: the delivery loop hands it over,
Vonage's throttling is retried, the receipt delivers it, and the channel logs show no credential."""

from datetime import timedelta

import pytest
from django.utils import timezone

from herald.msgs import tasks
from herald.msgs.models import Msg, MsgStatus
from herald.testing.factories import make_contact

from .conftest import SIGNATURE_SECRET

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


def test_a_throttled_message_is_retried_then_delivered_and_no_log_holds_a_secret(
    admin, workspace, channel, vonage, live_server, settings, django_capture_on_commit_callbacks
):
    settings.BASE_URL = live_server.url
    joe = make_contact(workspace, "Joe", ["tel:+250788123123"])
    vonage.reject_next(1, "Throughput Rate Exceeded - please wait [ 1000 ] and retry")

    with django_capture_on_commit_callbacks(execute=True):
        created = admin.post(
            "/api/v2/messages.json", {"contact": str(joe.uuid), "text": "Hello"}, content_type="application/json"
        )
    assert created.status_code == 201, created.content
    msg = Msg.objects.get(uuid=created.json()["uuid"])
    assert (msg.status, vonage.sent) == (MsgStatus.ERRORED, [])
    assert "Vonage status 1 (Throttled)" in msg.error_detail

    Msg.objects.update(next_attempt=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.tick()
    msg.refresh_from_db()
    [sent] = vonage.sent
    assert (msg.status, msg.external_id) == (MsgStatus.WIRED, sent["message-ids"][0])

    receipt = vonage.receipt(sent["callback"], sent, "delivered")
    assert receipt.status_code == 200, receipt.text
    msg.refresh_from_db()
    assert msg.status == MsgStatus.DELIVERED

    logs = admin.get("/api/v2/channel_logs.json", {"message": str(msg.uuid)})
    assert logs.status_code == 200
    assert [log["type"] for log in logs.json()["results"]] == ["msg_status", "msg_send", "msg_send"]
    text = logs.content.decode()
    for secret in (vonage.api_key, vonage.api_secret, SIGNATURE_SECRET, channel.callback_secret):
        assert secret not in text
