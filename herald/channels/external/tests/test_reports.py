"""Delivery reports at /c/ex/<channel uuid>/<secret>/<sent|delivered|failed>, through Django's test client."""

import io
import json
import logging
import uuid

import pytest
from django.test import Client

from herald.channels.callbacks import callback_urls
from herald.channels.models import Channel
from herald.channels.registry import get_type
from herald.msgs.models import FailedReason, MsgStatus
from herald.testing.factories import make_msg


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
    return f"/c/ex/{channel.uuid}/{channel.callback_secret}/{report}"


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


# docs/COMPATIBILITY.md, C14.
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
    assert response.json()["error"] == f"no message {unknown} was sent through this channel"
    assert f"no message {unknown} was sent through this channel" in caplog.text
    assert "400" in caplog.text


def test_another_channels_message_is_not_found(workspace, channel, bob):
    other = Channel.objects.create(workspace=workspace, channel_type="external", name="Other", schemes=["tel"])
    theirs = make_msg(bob, channel=other, status=MsgStatus.WIRED)

    response = Client().post(report_url(channel, "delivered"), {"id": str(theirs.uuid)})

    assert response.status_code == 400
    assert response.json()["error"] == f"no message {theirs.uuid} was sent through this channel"
    theirs.refresh_from_db()
    assert theirs.status == MsgStatus.WIRED


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "missing id: give the message UUID as `id` in the query string or the body"),
        ({"id": ""}, "missing id: give the message UUID as `id` in the query string or the body"),
        ({"id": "12345"}, "id must be a message UUID, got '12345'"),
    ],
)
def test_missing_or_malformed_id_is_400(channel, data, error):
    response = Client().post(report_url(channel, "sent"), data)

    assert response.status_code == 400
    assert response.json()["error"] == error


def test_bad_json_is_400(channel):
    response = Client().post(report_url(channel, "sent"), "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"].startswith("JSON parse error - Expecting property name")

    response = Client().post(report_url(channel, "sent"), "[1]", content_type="application/json")
    assert response.json()["error"] == "JSON body must be an object"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        # Deep enough to exhaust Python's parser stack (a 500 when read with a bare json.loads).
        ("[" * 100_000 + "]" * 100_000, "JSON parse error - nesting deeper than 32 levels is not allowed"),
        ('{"id": ' + "[" * 40 + "]" * 40 + "}", "JSON parse error - nesting deeper than 32 levels is not allowed"),
        ('{"id": "\\ud800"}', "JSON parse error - lone surrogate characters are not allowed"),
        ('{"id": 1e999}', "JSON parse error - Out of range float values are not JSON compliant: '1e999'"),
    ],
)
def test_bodies_the_api_refuses_are_a_clear_400_here_too(channel, wired, body, error):
    response = Client().post(report_url(channel, "delivered"), body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == error
    wired.refresh_from_db()
    assert wired.status == MsgStatus.WIRED


def test_undecodable_or_oversized_forms_are_a_clear_400(channel, wired, settings):
    response = Client().post(
        report_url(channel, "delivered"), b"id=\xff\xfe", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("Form parse error - 'utf-8' codec can't decode")

    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    many = "&".join(f"f{i}=x" for i in range(11)) + f"&id={wired.uuid}"
    response = Client().post(report_url(channel, "delivered"), many, content_type="application/x-www-form-urlencoded")
    assert (response.status_code, response.json()["error"]) == (400, "Form parse error - too many fields")
    wired.refresh_from_db()
    assert wired.status == MsgStatus.WIRED


def test_a_json_report_with_the_id_in_the_body(channel, wired):
    response = Client().post(
        report_url(channel, "sent"), json.dumps({"id": str(wired.uuid)}), content_type="application/json"
    )
    assert response.status_code == 200
    wired.refresh_from_db()
    assert wired.status == MsgStatus.SENT


# docs/COMPATIBILITY.md, C15: RapidPro's report URLs have no secret.
@pytest.mark.parametrize("secret", ["wrong", "x" * 32, "", "%20"])
def test_a_report_without_the_right_secret_is_403_and_changes_nothing(channel, wired, secret, caplog):
    with caplog.at_level(logging.WARNING, logger="herald.channels.callbacks"):
        response = Client().post(f"/c/ex/{channel.uuid}/{secret}/delivered", {"id": str(wired.uuid)})

    if secret:
        assert response.status_code == 403
        assert response.json()["error"] == (
            "wrong secret in the callback URL: `herald channel show` prints the channel's current URLs"
        )
    else:  # `/c/ex/<uuid>//delivered` names no secret at all
        assert response.status_code in (403, 404)
    wired.refresh_from_db()
    assert wired.status == MsgStatus.WIRED


def test_the_url_shape_without_a_secret_is_refused_saying_why(channel, wired):
    response = Client().post(f"/c/ex/{channel.uuid}/delivered", {"id": str(wired.uuid)})

    assert response.status_code == 403
    assert response.json()["error"] == (
        "callback URLs need the channel's secret: /c/<type>/<channel uuid>/<secret>/<action>; "
        "`herald channel show` prints them"
    )
    wired.refresh_from_db()
    assert wired.status == MsgStatus.WIRED


def test_another_channels_secret_does_not_open_this_one(workspace, channel, wired):
    other = Channel.objects.create(workspace=workspace, channel_type="external", name="Other", schemes=["tel"])

    response = Client().post(f"/c/ex/{channel.uuid}/{other.callback_secret}/delivered", {"id": str(wired.uuid)})

    assert response.status_code == 403
    wired.refresh_from_db()
    assert wired.status == MsgStatus.WIRED


def test_a_disabled_channel_refuses_reports_even_with_its_secret(channel, wired):
    channel.is_active = False
    channel.save(update_fields=["is_active"])

    response = Client().post(report_url(channel, "delivered"), {"id": str(wired.uuid)})

    assert response.status_code == 403
    assert response.json()["error"] == f"channel {channel.uuid} is disabled: `herald channel enable` turns it back on"
    wired.refresh_from_db()
    assert wired.status == MsgStatus.WIRED


def test_every_channel_gets_its_own_secret(workspace):
    channels = [
        Channel.objects.create(workspace=workspace, channel_type="external", name=f"G{i}", schemes=["tel"])
        for i in range(3)
    ]
    secrets = {c.callback_secret for c in channels}
    assert len(secrets) == 3
    assert all(len(secret) >= 32 for secret in secrets)


@pytest.fixture
def herald_log():
    """What Herald's configured log handler (settings.LOGGING's `console`) prints, while the test runs."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    printed = io.StringIO()
    previous = handler.setStream(printed)
    yield printed
    handler.setStream(previous)


def test_the_secret_never_reaches_the_log(channel, wired, caplog, herald_log):
    with caplog.at_level(logging.INFO):
        Client().post(report_url(channel, "delivered"), {"id": str(uuid.uuid4())})
        Client().post(report_url(channel, "read"), {"id": str(wired.uuid)})
        Client().post(f"{report_url(channel, 'delivered')}?id=nope")

    # Our own refusals, whichever handler gets them ...
    refusals = [r.getMessage() for r in caplog.records if r.name == "herald.channels.callbacks"]
    assert len(refusals) == 3
    assert all(f"/c/ex/{channel.uuid}/<secret>/" in line for line in refusals)
    assert "?id=nope" in refusals[2]
    # ... and every line Herald's log prints (Django's request log quotes the path too).
    printed = herald_log.getvalue()
    assert f"Bad Request: /c/ex/{channel.uuid}/<secret>/delivered" in printed
    assert channel.callback_secret not in printed


def test_the_printed_urls_are_the_ones_that_work(channel, wired, settings):
    settings.BASE_URL = "https://herald.example.com"
    urls = callback_urls(channel)

    actions = ["sent", "delivered", "failed", "receive", "stopped"]
    assert list(urls) == list(get_type("external").callback_actions) == actions
    for action, url in urls.items():
        assert url == f"https://herald.example.com/c/ex/{channel.uuid}/{channel.callback_secret}/{action}"
        # What each takes: a report the message's id, a message or a stop signal the sender's number.
        params = {"id": str(wired.uuid), "from": "+250788123123", "text": "Hi"}
        response = Client().post(url.removeprefix(settings.BASE_URL), params)
        assert response.status_code == 200, response.json()


def test_unknown_channel_is_404(channel, wired):
    for path in (
        f"/c/ex/{uuid.uuid4()}/{channel.callback_secret}/sent",
        f"/c/ex/not-a-uuid/{channel.callback_secret}/sent",
    ):
        response = Client().get(path, {"id": str(wired.uuid)})
        assert response.status_code == 404
        assert response.json()["error"].startswith("no external channel with UUID ")


def test_a_channel_of_another_type_is_404(workspace, bob):
    console = Channel.objects.create(workspace=workspace, channel_type="console", name="Console", schemes=["tel"])
    msg = make_msg(bob, channel=console, status=MsgStatus.WIRED)

    response = Client().get(f"/c/ex/{console.uuid}/{console.callback_secret}/delivered", {"id": str(msg.uuid)})

    assert response.status_code == 404
    msg.refresh_from_db()
    assert msg.status == MsgStatus.WIRED


def test_unknown_report_kind_is_404(channel, wired):
    response = Client().get(report_url(channel, "read"), {"id": str(wired.uuid)})

    assert response.status_code == 404
    assert response.json()["error"] == "unknown callback 'read': use one of sent, delivered, failed, receive or stopped"


def test_other_methods_are_405(channel, wired):
    assert Client().put(report_url(channel, "sent")).status_code == 405
