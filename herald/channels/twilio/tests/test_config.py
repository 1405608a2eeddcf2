"""`herald channel add --type twilio`: every key checked, Twilio asked about the credentials, secrets never shown."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from herald.channels.models import Channel
from herald.channels.registry import get_type
from herald.testing.factories import make_msg
from herald.testing.providers import twilio as fake_module
from herald.testing.providers.twilio import ACCOUNT_SID, AUTH_TOKEN, SENDER

SERVICE_SID = "MG" + "cd" * 16


def add(workspace, twilio, *config, address=SENDER, json_output=False) -> str:
    out, err = io.StringIO(), io.StringIO()
    args = ["add", f"--workspace={workspace.uuid}", "--type=twilio", "--name=Twilio", f"--address={address}"]
    args += ["--config", f"base_url={twilio.base_url}/", *config]
    call_command("channel", *args, *(["--json"] if json_output else []), stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_add_asks_twilio_prints_the_urls_and_never_the_token(workspace, twilio):
    output = add(workspace, twilio, f"account_sid={ACCOUNT_SID}", f"auth_token={AUTH_TOKEN}", json_output=True)

    channel = Channel.objects.get()
    assert channel.config == {"base_url": twilio.base_url, "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
    assert (channel.schemes, channel.tps) == (["tel"], None)
    [check] = twilio.requests
    assert (check.method, check.path) == ("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}.json")
    shown = json.loads(output)
    assert shown["callback_urls"] == {
        action: f"http://testserver/c/tw/{channel.uuid}/{channel.callback_secret}/{action}"
        for action in ("status", "receive")
    }
    assert AUTH_TOKEN not in output


def test_a_messaging_service_needs_no_address(workspace, twilio):
    add(workspace, twilio, f"account_sid={ACCOUNT_SID}", f"auth_token={AUTH_TOKEN}",
        f"messaging_service_sid={SERVICE_SID}", address="")  # fmt: skip
    assert Channel.objects.get().config["messaging_service_sid"] == SERVICE_SID


@pytest.mark.parametrize(
    ("config", "address", "error"),
    [
        ([f"auth_token={AUTH_TOKEN}"], SENDER, "account_sid is required for channel type 'twilio'"),
        ([f"account_sid={ACCOUNT_SID}"], SENDER, "auth_token is required for channel type 'twilio'"),
        (["account_sid=AC123", f"auth_token={AUTH_TOKEN}"], SENDER, "account_sid must be the account's SID"),
        (
            [f"account_sid={ACCOUNT_SID}", f"auth_token={AUTH_TOKEN}", "messaging_service_sid=PN1"],
            SENDER,
            "messaging_service_sid must be MG followed by 32 hex digits",
        ),
        ([f"account_sid={ACCOUNT_SID}", f"auth_token={AUTH_TOKEN}"], "", "sends from its --address"),
        (
            [f"account_sid={ACCOUNT_SID}", "auth_token=wrong-token"],
            SENDER,
            r"Twilio refused account_sid / auth_token \(HTTP 401\): Authenticate",
        ),
        (
            [f"account_sid={ACCOUNT_SID}", f"auth_token={AUTH_TOKEN}", "api_key=x"],
            SENDER,
            "unknown config key 'api_key'",
        ),
    ],
)
def test_bad_config_is_refused_naming_the_key_and_nothing_is_created(workspace, twilio, config, address, error):
    with pytest.raises(CommandError, match=error) as raised:
        add(workspace, twilio, *config, address=address)
    assert AUTH_TOKEN not in str(raised.value)
    assert not Channel.objects.exists()


def test_the_bench_hook_makes_a_channel_that_sends(workspace, twilio, bob):
    channel = fake_module.bench_channel(workspace, twilio)
    assert (channel.tps, channel.schemes, fake_module.FAKE) == (None, ["tel"], type(twilio))
    msg = make_msg(bob, "Hello", channel=channel)
    assert get_type("twilio").send(channel, msg).external_id.startswith("SM")


def test_plain_add_and_show_print_the_urls_and_never_the_token(workspace, twilio):
    output = add(workspace, twilio, f"account_sid={ACCOUNT_SID}", f"auth_token={AUTH_TOKEN}")
    channel = Channel.objects.get()
    out = io.StringIO()
    call_command("channel", "show", str(channel.uuid), stdout=out, stderr=io.StringIO())

    for text in (output, out.getvalue()):
        assert f"/c/tw/{channel.uuid}/{channel.callback_secret}/receive" in text
        assert AUTH_TOKEN not in text
