"""`herald channel add --type telegram`: the token checked with getMe, the webhook registered with setWebhook, and
then Telegram's updates reaching a real Herald on loopback (live_server) with the token it was given; messages
sent through the API leave channel logs without the bot token."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from herald.channels.models import Channel
from herald.channels.telegram import webhook
from herald.msgs.models import Msg
from herald.testing.factories import make_contact
from herald.testing.providers import telegram as provider
from herald.testing.providers.telegram import TOKEN

from .conftest import BOB_CHAT


def add(workspace, telegram, token=TOKEN, *extra):
    out = io.StringIO()
    call_command(
        "channel",
        "add",
        f"--workspace={workspace.uuid}",
        "--type=telegram",
        "--name=Bot",
        "--config",
        f"base_url={telegram.base_url}",
        f"bot_token={token}",
        *extra,
        stdout=out,
        stderr=io.StringIO(),
    )
    return out.getvalue()


def test_a_token_telegram_refuses_is_a_clear_error_and_creates_nothing(workspace, telegram):
    with pytest.raises(CommandError, match="Telegram refused the bot token: Unauthorized"):
        add(workspace, telegram, "999:wrong")

    assert Channel.objects.count() == 0
    assert telegram.webhook == {}


def test_a_missing_token_is_named(workspace, telegram):
    with pytest.raises(CommandError, match="bot_token is required for channel type 'telegram'"):
        call_command("channel", "add", f"--workspace={workspace.uuid}", "--type=telegram", "--name=Bot")


def test_without_a_base_url_the_webhook_is_not_set_and_the_command_to_set_it_is_printed(workspace, telegram, settings):
    settings.BASE_URL = ""

    output = add(workspace, telegram)

    channel = Channel.objects.get()
    assert (channel.schemes, channel.tps, channel.config["base_url"]) == (["telegram"], 30, telegram.base_url)
    assert "Telegram webhook NOT set" in output
    assert webhook.secret_token(channel) in output
    assert [r.path.rsplit("/", 1)[1] for r in telegram.requests] == ["getMe"]


@pytest.mark.django_db(transaction=True)
def test_add_sets_the_webhook_and_telegrams_updates_reach_herald(workspace, telegram, settings, live_server):
    settings.BASE_URL = live_server.url

    output = add(workspace, telegram)

    channel = Channel.objects.get()
    url = f"{live_server.url}/c/tg/{channel.uuid}/{channel.callback_secret}/update"
    assert f"Telegram webhook set to {url}" in output
    assert telegram.webhook == {
        "url": url,
        "secret_token": webhook.secret_token(channel),
        "allowed_updates": ["message", "my_chat_member"],
    }

    update = telegram.update(BOB_CHAT, message={"message_id": 4, "date": 1_764_676_800, "text": "Hi"})
    assert telegram.send_update(url, update).status_code == 200
    assert telegram.send_update(url, update, secret_token="guess").status_code == 403
    assert list(Msg.objects.incoming().values_list("text", "external_id")) == [("Hi", f"{BOB_CHAT}:4")]


def test_sent_messages_leave_channel_logs_without_the_bot_token(
    workspace, admin, telegram, eager_tasks, django_capture_on_commit_callbacks
):
    add(workspace, telegram, TOKEN, "--json")
    joe = make_contact(workspace, "Joe", [f"telegram:{BOB_CHAT}"])
    telegram.blocked.add(BOB_CHAT)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/api/v2/messages.json", {"contact": str(joe.uuid), "text": "Hello"}, content_type="application/json"
        )
    assert response.status_code == 201, response.content

    msg = Msg.objects.get(uuid=response.json()["uuid"])
    joe.refresh_from_db()
    assert (msg.status, msg.failed_reason, joe.status) == ("F", "C", "S")  # failed for its contact, which is stopped
    logs = admin.get("/api/v2/channel_logs.json", {"message": str(msg.uuid)})
    assert logs.status_code == 200
    (log,) = logs.json()["results"]
    (http,) = log["http_logs"]
    assert http["url"].endswith("/bot********/sendMessage")
    assert "bot was blocked by the user" in http["response"]
    assert TOKEN not in json.dumps(logs.json())
    assert TOKEN.split(":")[1] not in json.dumps(logs.json())


def test_the_bench_hook_makes_an_unlimited_channel_the_fake_accepts(workspace, telegram):
    channel = provider.bench_channel(workspace, telegram)

    assert (channel.channel_type, channel.tps, channel.schemes) == ("telegram", None, ["telegram"])
    assert provider.FAKE is type(telegram)
    assert provider.BENCH_URN.removeprefix("telegram:") == str(BOB_CHAT)
