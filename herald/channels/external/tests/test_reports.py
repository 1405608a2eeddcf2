"""Delivery reports at /c/ex/<channel uuid>/<sent|delivered|failed>, through Django's test client."""

import logging
import uuid

import pytest
from django.test import Client

from herald.channels.models import Channel
from herald.msgs.models import FailedReason, MsgStatus
from herald.testing import make_msg


@pytest.fixture
def channel(workspace):
    return Channel.objects.create(
        workspace=workspace,
        channel_type="external",
        name="Gateway",
        schemes=["tel"],
        config={"send_url": "http://127.0.0.1:9/send"},
    )


@pytest.fixture
def wired(bob, channel):
    return make_msg(bob, channel=channel, status=MsgStatus.WIRED)


def report_url(channel, report):
    return f"/c/ex/{channel.uuid}/{report}"


def test_delivered_by_get(channel, wired):
    response = Client().get(report_url(channel, "delivered"), {"id": str(wired.uuid)})

    assert response.status_code == 200
    assert response.json() == {
        "message": "Status Update Accepted",
        "data": [
            {
                "type": "status",
                "channel_uuid": str(channel.uuid),
                "msg_uuid": str(wired.uuid),
                "status": "delivered",
                "changed": True,
            }
        ],
    }
    wired.refresh_from_db()
    assert wired.status == MsgStatus.DELIVERED
    assert wired.sent_on is not None


def test_sent_by_form_post(channel, wired):
    response = Client().post(report_url(channel, "sent"), {"id": str(wired.uuid)})

    assert response.status_code == 200
    wired.refresh_from_db()
    assert wired.status == MsgStatus.SENT


def test_failed_by_json_post(channel, wired):
    response = Client().post(report_url(channel, "failed"), {"id": str(wired.uuid)}, content_type="application/json")

    assert response.status_code == 200
    wired.refresh_from_db()
    assert (wired.status, wired.failed_reason) == (MsgStatus.FAILED, FailedReason.PERMANENT)


def test_reports_never_move_a_message_backwards(channel, wired):
    client = Client()
    assert client.post(report_url(channel, "delivered"), {"id": str(wired.uuid)}).json()["data"][0]["changed"]

    late = client.post(report_url(channel, "sent"), {"id": str(wired.uuid)})
    assert late.status_code == 200
    assert late.json()["data"][0] == {
        "type": "status",
        "channel_uuid": str(channel.uuid),
        "msg_uuid": str(wired.uuid),
        "status": "delivered",
        "changed": False,
    }
    assert client.post(report_url(channel, "failed"), {"id": str(wired.uuid)}).json()["data"][0]["changed"] is False
    wired.refresh_from_db()
    assert wired.status == MsgStatus.DELIVERED


def test_unknown_message_is_a_logged_400(channel, caplog):
    unknown = uuid.uuid4()
    with caplog.at_level(logging.WARNING, logger="herald.channels.callbacks"):
        response = Client().post(report_url(channel, "delivered"), {"id": str(unknown)})

    assert response.status_code == 400
    assert response.json() == {"error": f"no message {unknown} was sent through this channel"}
    assert f"no message {unknown} was sent through this channel" in caplog.text
    assert "400" in caplog.text


def test_another_channels_message_is_not_found(workspace, channel, bob):
    other = Channel.objects.create(workspace=workspace, channel_type="external", name="Other", schemes=["tel"])
    theirs = make_msg(bob, channel=other, status=MsgStatus.WIRED)

    response = Client().post(report_url(channel, "delivered"), {"id": str(theirs.uuid)})

    assert response.status_code == 400
    assert response.json() == {"error": f"no message {theirs.uuid} was sent through this channel"}
    theirs.refresh_from_db()
    assert theirs.status == MsgStatus.WIRED


@pytest.mark.parametrize(
    "data, error",
    [
        ({}, "missing id: give the message UUID as `id` in the query string or the body"),
        ({"id": ""}, "missing id: give the message UUID as `id` in the query string or the body"),
        ({"id": "12345"}, "id must be a message UUID, got '12345'"),
    ],
)
def test_missing_or_malformed_id_is_400(channel, data, error):
    response = Client().post(report_url(channel, "sent"), data)

    assert response.status_code == 400
    assert response.json() == {"error": error}


def test_bad_json_is_400(channel):
    response = Client().post(report_url(channel, "sent"), "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": "request body is not valid JSON"}

    response = Client().post(report_url(channel, "sent"), "[1]", content_type="application/json")
    assert response.json() == {"error": "JSON body must be an object"}


def test_unknown_channel_is_404(channel, wired):
    for path in (f"/c/ex/{uuid.uuid4()}/sent", "/c/ex/not-a-uuid/sent"):
        response = Client().get(path, {"id": str(wired.uuid)})
        assert response.status_code == 404
        assert response.json()["error"].startswith("no external channel with UUID ")


def test_a_channel_of_another_type_is_404(workspace, bob):
    console = Channel.objects.create(workspace=workspace, channel_type="console", name="Console", schemes=["tel"])
    msg = make_msg(bob, channel=console, status=MsgStatus.WIRED)

    response = Client().get(f"/c/ex/{console.uuid}/delivered", {"id": str(msg.uuid)})

    assert response.status_code == 404
    msg.refresh_from_db()
    assert msg.status == MsgStatus.WIRED


def test_unknown_report_kind_is_404(channel, wired):
    response = Client().get(report_url(channel, "read"), {"id": str(wired.uuid)})

    assert response.status_code == 404
    assert response.json() == {"error": "unknown report 'read': use one of sent, delivered, failed"}


def test_other_methods_are_405(channel, wired):
    assert Client().put(report_url(channel, "sent")).status_code == 405
