"""`herald channel add --type vonage`: keys checked, credentials asked of (Fake)Vonage's get-balance, the callback
URLs printed, and no credential ever printed back."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from herald.channels.callbacks import callback_urls
from herald.channels.models import Channel
from herald.channels.registry import get_type
from herald.testing.gateway import unreachable_url

from .conftest import SIGNATURE_SECRET


def run(*args) -> str:
    out = io.StringIO()
    call_command("channel", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def add(workspace, *config, address="+250788000000", json_output=False):
    args = ["add", f"--workspace={workspace.uuid}", "--type=vonage", "--name=Vonage", f"--address={address}"]
    return run(*args, *(["--config", *config] if config else []), *(["--json"] if json_output else []))


def credentials(vonage, secret=None):
    return [f"base_url={vonage.base_url}", f"api_key={vonage.api_key}", f"api_secret={secret or vonage.api_secret}"]


def test_add_checks_the_credentials_and_prints_the_urls_but_no_secret(workspace, vonage, settings):
    settings.BASE_URL = "https://herald.example.org"

    output = add(workspace, *credentials(vonage), f"signature_secret={SIGNATURE_SECRET}", json_output=True)

    channel = Channel.objects.get()
    [check] = vonage.requests
    assert (check.method, check.path.split("?")[0]) == ("GET", "/account/get-balance")
    assert check.query == {"api_key": [vonage.api_key], "api_secret": [vonage.api_secret]}
    shown = json.loads(output)
    assert (shown["type"], shown["tps"], shown["schemes"]) == ("vonage", 30, ["tel"])
    assert shown["callback_urls"] == callback_urls(channel)
    assert set(shown["callback_urls"]) == {"receipt", "receive"}
    assert shown["config"] == {
        "base_url": vonage.base_url,
        "api_key": "********",
        "api_secret": "********",
        "signature_secret": "********",
    }
    assert channel.config == {
        "base_url": vonage.base_url,
        "api_key": vonage.api_key,
        "api_secret": vonage.api_secret,
        "signature_secret": SIGNATURE_SECRET,
    }
    plain = run("show", str(channel.uuid)) + add(workspace, *credentials(vonage))
    for secret in (vonage.api_secret, SIGNATURE_SECRET):
        assert secret not in output + plain
    assert callback_urls(channel)["receive"] in plain


def test_base_url_defaults_to_vonages_rest_api():
    assert get_type("vonage").validate_config({"api_key": "k", "api_secret": "s"}) == {
        "base_url": "https://rest.nexmo.com",
        "api_key": "k",
        "api_secret": "s",
    }


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ([], "api_key is required for channel type 'vonage'"),
        (["api_key=abc"], "api_secret is required for channel type 'vonage'"),
        (["api_key=abc", "api_secret=def", "sender=x"], "unknown config key 'sender' for channel type 'vonage'"),
        (["api_key=abc", "api_secret=def", "base_url=ftp://x"], "base_url must be an http:// or https:// URL"),
    ],
)
def test_add_refuses_a_missing_or_wrong_key_and_creates_nothing(workspace, config, error):
    with pytest.raises(CommandError, match=error):
        add(workspace, *config)
    assert not Channel.objects.exists()


def test_add_refuses_credentials_vonage_refuses(workspace, vonage):
    with pytest.raises(CommandError, match=r"Vonage refused api_key / api_secret \(HTTP 401\)"):
        add(workspace, *credentials(vonage, secret="wrong-secret"))
    assert not Channel.objects.exists()


def test_add_needs_the_sender_address(workspace, vonage):
    with pytest.raises(CommandError, match="--address is required: the Vonage number or sender ID"):
        add(workspace, *credentials(vonage), address="")
    assert vonage.requests == []


def test_add_says_when_vonage_cannot_be_reached(workspace, settings):
    settings.CHANNEL_SEND_TIMEOUT = settings.CHANNEL_CONNECT_TIMEOUT = 1
    with pytest.raises(CommandError, match="could not check the credentials with Vonage: could not reach gateway"):
        add(workspace, f"base_url={unreachable_url()}", "api_key=abc", "api_secret=def")
    assert not Channel.objects.exists()
