"""`herald channel add --type infobip`: the keys, the API key checked against (the fake) Infobip, and the key kept
out of what the command prints."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from herald.channels.models import Channel
from herald.channels.registry import ChannelConfigError, get_type
from herald.testing.providers.infobip import API_KEY, BENCH_URN, FakeInfobip, bench_channel

INFOBIP = get_type("infobip")


@pytest.fixture
def infobip():
    with FakeInfobip() as fake:
        yield fake


def add(workspace, *config: str) -> str:
    out = io.StringIO()
    args = ["add", "--workspace", str(workspace.uuid), "--type", "infobip", "--name", "Infobip"]
    args += ["--address", "HERALD", "--json"]
    for pair in config:
        args += ["--config", pair]
    call_command("channel", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_add_checks_the_key_and_prints_the_callback_urls_without_it(workspace, infobip):
    printed = add(workspace, f"base_url={infobip.base_url}/", f"api_key={API_KEY}")

    channel = Channel.objects.get()
    assert channel.config == {"base_url": infobip.base_url, "api_key": API_KEY}
    assert (infobip.requests[-1].method, infobip.requests[-1].path) == ("GET", "/account/1/balance")
    assert infobip.requests[-1].headers["authorization"] == f"App {API_KEY}"
    shown = json.loads(printed)
    assert set(shown["callback_urls"]) == {"delivered", "receive"}
    assert API_KEY not in printed


def test_a_wrong_key_is_refused_with_infobips_words(workspace, infobip):
    with pytest.raises(CommandError) as refused:
        add(workspace, f"base_url={infobip.base_url}", "api_key=wrong")

    assert str(refused.value) == (
        f"Infobip did not accept the api_key at {infobip.base_url}: "
        "Infobip HTTP 401 UNAUTHORIZED: Invalid login details"
    )
    assert not Channel.objects.exists()


def test_the_key_is_required_and_the_default_base_url_is_infobips():
    with pytest.raises(ChannelConfigError, match="api_key is required for channel type 'infobip'"):
        INFOBIP.validate_config({})
    assert INFOBIP.validate_config({"api_key": "k"}) == {"base_url": "https://api.infobip.com", "api_key": "k"}


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({"api_key": "k", "sender": "x"}, "unknown config key 'sender'"),
        ({"api_key": "k", "base_url": "ftp://x"}, "base_url must be an http:// or https:// URL"),
    ],
)
def test_bad_config_is_refused(config, error):
    with pytest.raises(ChannelConfigError, match=error):
        INFOBIP.validate_config(config)


def test_the_bench_hook_makes_a_channel_the_fake_accepts(workspace, infobip):
    channel = bench_channel(workspace, infobip)

    assert (channel.channel_type, channel.tps, channel.schemes) == ("infobip", None, ["tel"])
    assert BENCH_URN.startswith("tel:")
