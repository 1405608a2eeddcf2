"""`channel_logs.json`: every hand-over attempt to a real gateway on loopback, and every delivery report, is listable
per message and per channel with the gateway's answers, and no secret of the channel ever shows (docs/
COMPATIBILITY.md, C68). Logs older than HERALD_CHANNEL_LOG_DAYS are purged."""

import base64
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from herald.channels.models import ChannelLog
from herald.channels.registry import create_channel
from herald.channels.tasks import purge_channel_logs
from herald.msgs import tasks
from herald.msgs.models import Msg
from herald.testing.factories import make_contact, make_msg
from herald.testing.fixtures import results, uuids
from herald.testing.gateway import reply, unreachable_url

URL = "/api/v2/channel_logs.json"
API_KEY = "k3y-0f-the-gateway-9931"
BASIC_PASSWORD = "pa55-w0rd-4417"
URL_PASSWORD = "url-pw-8812"
QUERY_TOKEN = "q-t0ken-5521"
BASIC = "Basic " + base64.b64encode(f"herald:{BASIC_PASSWORD}".encode()).decode()

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def channel(workspace, gateway):
    """An external channel whose config holds every kind of secret: a basic-auth Authorization, an API-key header,
    a password in its URL and a token in its query string."""
    host = gateway.url.removeprefix("http://")
    return create_channel(
        workspace,
        "external",
        "Secret Gateway",
        address="+250788000000",
        schemes=["tel"],
        config={
            "send_url": f"http://gw:{URL_PASSWORD}@{host}/send?token={QUERY_TOKEN}&to={{{{to}}}}",
            "content_type": "json",
            "send_body": '{"id": {{id}}, "text": {{text}}, "password": "' + BASIC_PASSWORD + '"}',
            "send_authorization": BASIC,
            "headers": {"X-Api-Key": API_KEY},
        },
    )


@pytest.fixture
def joe(workspace):
    return make_contact(workspace, "Joe", ["tel:+250788123123"])


SECRETS = [API_KEY, BASIC_PASSWORD, URL_PASSWORD, QUERY_TOKEN, BASIC.split()[1]]


def assert_no_secret(text: str, channel) -> None:
    for secret in [*SECRETS, channel.callback_secret]:
        assert secret not in text


def send(admin, joe, django_capture_on_commit_callbacks) -> Msg:
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/api/v2/messages.json", {"contact": str(joe.uuid), "text": "Hello"}, content_type="application/json"
        )
    assert response.status_code == 201, response.content
    return Msg.objects.get(uuid=response.json()["uuid"])


def retry_now(django_capture_on_commit_callbacks) -> None:
    Msg.objects.update(next_attempt=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.tick()


def test_a_failed_then_successful_send_leaves_both_attempts_with_answers_and_no_secret(
    admin, editor, channel, joe, gateway, django_capture_on_commit_callbacks
):
    # The gateway even quotes the key back in its error: the log blanks it there too.
    gateway.will(reply(503, f"busy (key {API_KEY}), try later"), reply(200, "queued as 42"))
    msg = send(admin, joe, django_capture_on_commit_callbacks)
    retry_now(django_capture_on_commit_callbacks)
    msg.refresh_from_db()
    assert (msg.status, len(gateway.requests)) == ("W", 2)
    # What the gateway really got carried the secrets: the log is what must not.
    assert gateway.requests[0].headers["x-api-key"] == API_KEY

    for client in (admin, editor):
        response = client.get(URL, {"message": str(msg.uuid)})
        assert response.status_code == 200
        assert_no_secret(response.content.decode(), channel)
        succeeded, failed = response.json()["results"]
        assert [list(log) for log in (succeeded, failed)] == [
            ["uuid", "type", "channel", "message", "is_error", "http_logs", "errors", "elapsed_ms", "created_on"]
        ] * 2
        for log in (succeeded, failed):
            assert log["type"] == "msg_send"
            assert log["channel"] == {"uuid": str(channel.uuid), "name": "Secret Gateway"}
            assert log["message"] == str(msg.uuid)
            (http,) = log["http_logs"]
            assert list(http) == ["method", "url", "status_code", "request", "response", "elapsed_ms", "created_on"]
            assert http["method"] == "POST"
            host = gateway.url.removeprefix("http://")
            assert http["url"] == f"http://gw:********@{host}/send?token=********&to=%2B250788123123"
            assert http["request"].startswith("POST /send?token=********&to=%2B250788123123 HTTP/1.1\r\n")
            head, body = http["request"].split("\r\n\r\n")
            assert "\r\nauthorization: ********\r\n" in head + "\r\n"
            assert "\r\nx-api-key: ********\r\n" in head + "\r\n"
            assert json.loads(body) == {"id": str(msg.uuid), "text": "Hello", "password": "********"}

        assert (failed["is_error"], failed["http_logs"][0]["status_code"]) == (True, 503)
        assert failed["http_logs"][0]["response"].startswith("HTTP/1.1 503 Service Unavailable\r\n")
        assert failed["http_logs"][0]["response"].endswith("\r\n\r\nbusy (key ********), try later")
        assert failed["errors"] == [{"message": "gateway answered HTTP 503: busy (key ********), try later"}]
        assert (succeeded["is_error"], succeeded["errors"], succeeded["http_logs"][0]["status_code"]) == (
            False,
            [],
            200,
        )
        assert succeeded["http_logs"][0]["response"].endswith("\r\n\r\nqueued as 42")

        # The channel's list holds the same two, and so does the workspace's.
        assert uuids(client.get(URL, {"channel": str(channel.uuid)})) == [succeeded["uuid"], failed["uuid"]]
        assert uuids(client.get(URL)) == [succeeded["uuid"], failed["uuid"]]


def test_a_gateway_that_does_not_answer_leaves_the_error_and_no_response(
    admin, workspace, joe, django_capture_on_commit_callbacks
):
    channel = create_channel(
        workspace, "external", "Down", schemes=["tel"], config={"send_url": f"{unreachable_url()}/send"}
    )
    msg = send(admin, joe, django_capture_on_commit_callbacks)
    (log,) = results(admin.get(URL, {"message": str(msg.uuid)}))
    assert log["channel"]["uuid"] == str(channel.uuid)
    assert log["is_error"] is True
    ((http,),) = [log["http_logs"]]
    assert (http["status_code"], http["response"]) == (None, "")
    ((error,),) = [log["errors"]]
    assert error["message"].startswith("could not reach gateway: ")


def test_a_delivery_report_is_logged_with_the_callback_secret_redacted(
    admin, channel, joe, gateway, django_capture_on_commit_callbacks
):
    msg = send(admin, joe, django_capture_on_commit_callbacks)
    callback = f"/c/ex/{channel.uuid}/{channel.callback_secret}/delivered"
    form = "application/x-www-form-urlencoded"
    report = Client().post(callback, f"id={msg.uuid}", content_type=form)
    assert report.status_code == 200
    refused = Client().post(callback, "id=nope", content_type=form)
    assert refused.status_code == 400

    response = admin.get(URL, {"channel": str(channel.uuid)})
    assert_no_secret(response.content.decode(), channel)
    bad, delivered, sent = response.json()["results"]
    assert [log["type"] for log in (bad, delivered, sent)] == ["msg_status", "msg_status", "msg_send"]
    assert (delivered["message"], delivered["is_error"], bad["message"], bad["is_error"]) == (
        str(msg.uuid),
        False,
        None,
        True,
    )
    (http,) = delivered["http_logs"]
    assert http["url"] == f"http://testserver/c/ex/{channel.uuid}/<secret>/delivered"
    assert http["request"].startswith(f"POST /c/ex/{channel.uuid}/<secret>/delivered HTTP/1.1\r\n")
    assert http["request"].endswith(f"\r\n\r\nid={msg.uuid}")
    assert http["status_code"] == 200
    assert '"message": "Status Update Accepted"' in http["response"]
    assert bad["http_logs"][0]["response"].endswith(""""error": "id must be a message UUID, got 'nope'"}""")


def test_only_admins_and_editors_may_list_logs(assert_roles, channel):
    assert_roles(f"{URL}?channel={channel.uuid}", get={"anon": 403, "agent": 403, "editor": 200, "admin": 200})
    assert_roles(URL, post={"admin": ({}, 405)}, delete={"admin": 405})


def test_another_workspaces_message_or_channel_is_not_found_and_shows_nothing(admin, other_workspace):
    theirs = make_contact(other_workspace, "Theirs", ["tel:+250788999999"])
    their_msg = make_msg(theirs)
    their_channel = create_channel(other_workspace, "console", "Theirs")
    ChannelLog.objects.create(channel=their_channel, msg_uuid=their_msg.uuid, log_type="msg_send")

    assert results(admin.get(URL)) == []
    for param, value, noun in [("message", their_msg.uuid, "message"), ("channel", their_channel.uuid, "channel")]:
        response = admin.get(URL, {param: str(value)})
        assert (response.status_code, response.json()) == (
            404,
            {"detail": f"Param '{param}': no {noun} with this UUID in your workspace."},
        )


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"message": "nope"}, "Param 'message': nope is not a valid UUID."),
        ({"channel": "1234"}, "Param 'channel': 1234 is not a valid UUID."),
        (
            {"channel": "09d23a05-47fe-11e4-bfe9-b8f6b119e9ab", "message": "09d23a05-47fe-11e4-bfe9-b8f6b119e9ab"},
            "You may only specify one of the message, channel parameters",
        ),
    ],
)
def test_bad_queries_are_a_clear_400(admin, query, error):
    response = admin.get(URL, query)
    assert (response.status_code, response.json()) == (400, {"detail": error})


def test_logs_older_than_the_configured_days_are_purged(admin, channel, settings):
    settings.CHANNEL_LOG_DAYS = 2
    now = timezone.now()
    old = ChannelLog.objects.create(channel=channel, log_type="msg_send", created_on=now - timedelta(days=2, hours=1))
    recent = ChannelLog.objects.create(channel=channel, log_type="msg_send", created_on=now - timedelta(days=1))
    assert uuids(admin.get(URL, {"channel": str(channel.uuid)})) == [str(recent.uuid), str(old.uuid)]

    assert purge_channel_logs() == 1
    assert uuids(admin.get(URL, {"channel": str(channel.uuid)})) == [str(recent.uuid)]
    assert purge_channel_logs() == 0
