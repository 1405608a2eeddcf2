"""The channels pages through Django's test client: the list, adding a channel with the form generated from its
type (create_channel's checks and words beside the field, secrets never rendered back), the callback URLs for
administrators only, the recent logs (redacted as stored), disable / enable, other workspaces (404), roles (403)
and CSRF."""

import re

import pytest
from django.test import Client

from herald.channels.models import Channel, ChannelLog, ChannelLogType
from herald.channels.redaction import REDACTED
from herald.testing.factories import TEST_PASSWORD, create_web_user

pytestmark = pytest.mark.django_db
SECRET = "sk-live-9f8e7d6c5b4a"


def text_of(response, status: int = 200) -> str:
    assert response.status_code == status, response.content[:800]
    return response.content.decode()


def error_beside(page: str, field: str) -> str:
    """The error shown in the field block of input `field` (its id is `id_<field>`)."""
    block = re.search(rf'<div class="field invalid">\s*<label for="id_{field}">.*?</div>', page, re.S)
    assert block, f"no error beside {field}"
    return re.sub(r"\s+", " ", " ".join(re.findall(r'<p class="field-error" role="alert">(.*?)</p>', block[0])))


def external(workspace, name="Gateway", **extra) -> Channel:
    config = {"send_url": "https://gateway.example/send", "send_authorization": f"Bearer {SECRET}"}
    return Channel.objects.create(workspace=workspace, channel_type="external", name=name, config=config, **extra)


def test_the_list_shows_type_rate_and_state(web_client, workspace):
    external(workspace, tps=10)
    external(workspace, name="Old gateway", is_active=False)
    page = text_of(web_client(workspace, "agent").get("/channels/"))
    assert "External API" in page
    assert "10/s" in page
    assert "unlimited" in page
    assert "enabled" in page
    assert "disabled" in page
    assert "Add a channel" not in page  # agents don't add channels


def test_adding_an_external_channel_shows_its_callback_urls(web_client, workspace):
    client = web_client(workspace)
    form = text_of(client.get("/channels/new/external"))
    assert 'name="config_send_url"' in form
    assert 'type="password" name="config_send_authorization"' in form  # a secret-named key

    response = client.post(
        "/channels/new/external",
        {
            "name": "SMS gateway",
            "address": "+250788000000",
            "tps": "5",
            "config_send_url": "https://gateway.example/send?to={{to}}",
            "config_send_authorization": f"Bearer {SECRET}",
            "config_headers": "X-Api-Key: abc123secret",
        },
    )
    channel = Channel.objects.get(workspace=workspace)
    assert response.status_code == 302
    assert response.url == f"/channels/{channel.uuid}/"
    assert channel.tps == 5
    assert channel.config["headers"] == {"X-Api-Key": "abc123secret"}
    assert channel.config["send_method"] == "POST"  # the type's own normalisation

    page = text_of(client.get(response.url))
    assert "Channel added." in page
    for action in ("sent", "delivered", "failed", "receive", "stopped"):
        assert f"/c/ex/{channel.uuid}/{channel.callback_secret}/{action}" in page
    assert SECRET not in page
    assert "abc123secret" not in page


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"config_send_url": "https://g.example/send"}, "name", "name is required"),
        ({"name": "G"}, "config_send_url", "send_url is required"),
        ({"name": "G", "config_send_url": "ftp://g.example"}, "config_send_url", "send_url must be an http://"),
        ({"name": "G", "config_send_url": "https://g.example", "tps": "fast"}, "tps", "tps must be a whole number"),
        ({"name": "G", "config_send_url": "https://g.example", "country": "ZZ"}, "country", "Unknown country"),
        ({"name": "G", "config_send_url": "https://g.example", "schemes": "fax"}, "schemes", "unknown URN scheme"),
        (
            {"name": "G", "config_send_url": "https://g.example", "config_send_method": "PATCH"},
            "config_send_method",
            "send_method must be one of GET, POST, PUT",
        ),
        (
            {"name": "G", "config_send_url": "https://g.example", "config_headers": "Bad Name: x"},
            "config_headers",
            "invalid header name",
        ),
        # Beside the field the error was raised about (the missing one), not the first one its words name.
        (
            {"name": "G", "config_host": "smtp.example", "config_username": "u"},
            "config_password",
            "username and password go together",
        ),
    ],
)
def test_each_refusal_is_create_channels_words_beside_its_field(web_client, workspace, posted, field, message):
    kind = "email" if "config_host" in posted else "external"
    page = text_of(web_client(workspace).post(f"/channels/new/{kind}", posted), 400)
    assert message in error_beside(page, field)
    assert not Channel.objects.exists()


def test_a_refused_form_never_renders_a_secret_back(web_client, workspace):
    posted = {
        "name": "G",
        "config_send_url": "ftp://g.example",
        "config_send_authorization": f"Bearer {SECRET}",
        "config_headers": "X-Api-Key: abc123secret",
    }
    page = text_of(web_client(workspace).post("/channels/new/external", posted), 400)
    assert "send_url must be" in page
    assert SECRET not in page
    assert "abc123secret" not in page
    assert 'value="G"' in page  # what isn't secret is kept for the next try

    # A URL holding a secret (what the channel logs would blank) is not sent back either.
    posted = {"name": "G", "config_send_url": "https://g.example/send?api_key=urlsecret42", "tps": "x"}
    page = text_of(web_client(workspace).post("/channels/new/external", posted), 400)
    assert "tps must be" in page
    assert "urlsecret42" not in page


def test_each_type_has_its_form(web_client, workspace):
    from herald.channels.registry import TYPES  # noqa: PLC0415

    client = web_client(workspace)
    for code, kind in TYPES.items():
        page = text_of(client.get(f"/channels/new/{code}"))
        for key in kind.config_keys:
            assert f'name="config_{key}"' in page
    twilio = text_of(client.get("/channels/new/twilio"))
    assert 'type="password" name="config_auth_token"' in twilio
    assert "account_sid (required)" in twilio
    assert "Default: https://api.twilio.com." in twilio
    assert client.get("/channels/new/carrier-pigeon").status_code == 404


def test_the_logs_are_shown_redacted_and_paged(web_client, workspace):
    channel = external(workspace)
    ChannelLog.objects.bulk_create(
        ChannelLog(
            channel=channel,
            log_type=ChannelLogType.MSG_SEND,
            http_logs=[
                {
                    "method": "POST",
                    "url": "https://gateway.example/send",
                    "status_code": 200,
                    "request": f"POST /send HTTP/1.1\r\nAuthorization: {REDACTED}\r\n\r\nattempt {n:02d}",
                    "response": "HTTP/1.1 200 OK\r\n\r\nok",
                    "elapsed_ms": 3,
                    "created_on": "2026-01-01T00:00:00Z",
                }
            ],
        )
        for n in range(25)
    )
    client = web_client(workspace, "editor")
    page = text_of(client.get(f"/channels/{channel.uuid}/"))
    assert re.findall(r"attempt (\d\d)", page) == [f"{n:02d}" for n in range(24, 4, -1)]
    assert REDACTED in page
    assert SECRET not in page
    assert channel.callback_secret not in page  # editors see no callback URL
    older = re.search(r'href="\?before=([^"]+)" rel="next"', page)[1]
    assert re.findall(r"attempt (\d\d)", text_of(client.get(f"/channels/{channel.uuid}/?before={older}"))) == [
        "04",
        "03",
        "02",
        "01",
        "00",
    ]
    assert client.get(f"/channels/{channel.uuid}/?before=yesterday_1").status_code == 400


def test_disable_and_enable(web_client, workspace):
    channel = external(workspace)
    client = web_client(workspace)
    response = client.post(f"/channels/{channel.uuid}/state", {"action": "disable"})
    assert response.status_code == 302
    channel.refresh_from_db()
    assert not channel.is_active
    assert "Channel disabled" in text_of(client.get(response.url))
    client.post(f"/channels/{channel.uuid}/state", {"action": "enable"})
    channel.refresh_from_db()
    assert channel.is_active
    assert client.post(f"/channels/{channel.uuid}/state", {"action": "delete"}).status_code == 400


@pytest.mark.parametrize("role", ["editor", "agent"])
def test_only_admins_add_or_change_channels(web_client, workspace, role):
    channel = external(workspace)
    client = web_client(workspace, role)
    assert client.get("/channels/new/external").status_code == 403
    posted = {"name": "G", "config_send_url": "https://g.example"}
    assert client.post("/channels/new/external", posted).status_code == 403
    assert client.post(f"/channels/{channel.uuid}/state", {"action": "disable"}).status_code == 403
    channel.refresh_from_db()
    assert channel.is_active
    assert Channel.objects.count() == 1


def test_another_workspaces_channel_is_404(web_client, workspace, other_workspace):
    theirs = external(other_workspace)
    client = web_client(workspace)
    assert client.get(f"/channels/{theirs.uuid}/").status_code == 404
    assert client.post(f"/channels/{theirs.uuid}/state", {"action": "disable"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active
    assert theirs.name not in text_of(client.get("/channels/"))


def test_html_in_a_channels_name_is_escaped(web_client, workspace):
    channel = external(workspace, name="<script>alert(1)</script>")
    client = web_client(workspace)
    for url in ("/channels/", f"/channels/{channel.uuid}/"):
        page = text_of(client.get(url))
        assert "<script>alert(1)" not in page
        assert "&lt;script&gt;alert(1)" in page


def test_adding_a_channel_needs_the_csrf_token(workspace):
    user = create_web_user(workspace)
    client = Client(enforce_csrf_checks=True)
    client.get("/signin")
    sign_in_token = client.cookies["csrftoken"].value
    client.post("/signin", {"email": user.email, "password": TEST_PASSWORD, "csrfmiddlewaretoken": sign_in_token})
    posted = {"name": "G", "config_send_url": "https://g.example"}
    assert client.post("/channels/new/external", posted).status_code == 403
    assert not Channel.objects.exists()
    client.get("/channels/new/external")
    token = client.cookies["csrftoken"].value
    assert client.post("/channels/new/external", {**posted, "csrfmiddlewaretoken": token}).status_code == 302


def test_the_page_queries_dont_grow_with_the_logs(web_client, workspace, django_assert_max_num_queries):
    channel = external(workspace)
    ChannelLog.objects.bulk_create(
        ChannelLog(channel=channel, log_type=ChannelLogType.MSG_STATUS, http_logs=[]) for _ in range(20)
    )
    client = web_client(workspace)
    with django_assert_max_num_queries(6):
        text_of(client.get(f"/channels/{channel.uuid}/"))


def test_the_lists_queries_dont_grow_with_the_channels(web_client, workspace, django_assert_max_num_queries):
    client = web_client(workspace)
    for n in range(10):
        external(workspace, name=f"Gateway {n}")
    with django_assert_max_num_queries(4):
        assert "Gateway 9" in text_of(client.get("/channels/"))
