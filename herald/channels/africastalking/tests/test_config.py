"""`herald channel add --type africastalking`: the keys, the credentials checked against (the fake) Africa's
Talking, the callback URLs printed, the key never printed back."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from herald.channels.models import Channel
from herald.testing.providers.africastalking import API_KEY, USERNAME, bench_channel


def add(workspace, *config: str, as_json: bool = True) -> str:
    out = io.StringIO()
    args = ["add", "--workspace", str(workspace.uuid), "--type", "africastalking", "--name", "AT"]
    args += ["--address", "HERALD", *(["--json"] if as_json else [])]
    for pair in config:
        args += ["--config", pair]
    call_command("channel", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_add_checks_the_credentials_and_prints_the_callback_urls_without_the_key(workspace, africastalking):
    printed = add(workspace, f"base_url={africastalking.base_url}/", f"username={USERNAME}", f"api_key={API_KEY}")

    channel = Channel.objects.get()
    assert channel.config == {"base_url": africastalking.base_url, "username": USERNAME, "api_key": API_KEY}
    check = africastalking.requests[-1]
    assert (check.method, check.path, check.headers["apikey"]) == ("GET", f"/version1/user?username={USERNAME}",
                                                                   API_KEY)  # fmt: skip
    shown = json.loads(printed)
    assert shown["config"]["api_key"] == "********"
    secret = channel.callback_secret
    assert shown["callback_urls"] == {
        action: f"/c/at/{channel.uuid}/{secret}/{action}" for action in ("delivery", "receive", "optout")
    }
    assert API_KEY not in printed


def test_plain_add_never_prints_the_key_either(workspace, africastalking):
    printed = add(workspace, f"base_url={africastalking.base_url}", f"username={USERNAME}", f"api_key={API_KEY}",
                  as_json=False)  # fmt: skip
    assert API_KEY not in printed
    assert "/c/at/" in printed


@pytest.mark.parametrize(
    ("config", "words"),
    [
        (["username=herald-app"], "api_key is required for channel type 'africastalking'"),
        ([f"api_key={API_KEY}"], "username is required for channel type 'africastalking'"),
        (["username=herald-app", "api_key=wrong"], "The supplied authentication is invalid"),
        (["username=someone-else", f"api_key={API_KEY}"], "The supplied authentication is invalid"),
        (["username=herald-app", f"api_key={API_KEY}", "base_url=ftp://x"], "base_url must be an http:// or"),
        (["username=herald-app", f"api_key={API_KEY}", "sender=X"], "unknown config key 'sender'"),
    ],
)
def test_a_missing_or_wrong_key_is_named_and_no_channel_is_made(workspace, africastalking, config, words):
    pairs = (
        config
        if any(pair.startswith("base_url") for pair in config)
        else [*config, f"base_url={africastalking.base_url}"]
    )

    with pytest.raises(CommandError) as refused:
        add(workspace, *pairs)

    assert words in str(refused.value)
    assert not Channel.objects.exists()


def test_the_bench_hook_makes_a_channel_the_fake_takes(workspace, africastalking):
    channel = bench_channel(workspace, africastalking)
    assert channel.config["api_key"] == API_KEY
