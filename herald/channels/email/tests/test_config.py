"""An email channel's config and `herald channel add --type email`: keys normalised, bad ones refused by name, the
login checked against the server before the channel exists, the password never printed."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from herald.channels.base import ChannelConfigError
from herald.channels.models import Channel
from herald.channels.registry import get_type
from herald.testing.gateway import unreachable_url

EMAIL = get_type("email")


def add(workspace, *args: str) -> str:
    out = io.StringIO()
    call_command("channel", "add", f"--workspace={workspace.uuid}", "--type=email", "--name=Clinic mail", *args,
                 stdout=out, stderr=io.StringIO())  # fmt: skip
    return out.getvalue()


def config_args(config: dict[str, str]) -> list[str]:
    return ["--config", *(f"{key}={value}" for key, value in config.items())]


def test_defaults_and_normalised_values():
    assert EMAIL.validate_config({"host": " smtp.example.org "}) == {
        "host": "smtp.example.org",
        "port": "587",
        "tls": "starttls",
    }
    assert EMAIL.validate_config(
        {"host": "smtp.example.org", "port": 465, "tls": "SSL", "username": "u", "password": "p"}
    ) == {
        "host": "smtp.example.org",
        "port": "465",
        "tls": "ssl",
        "username": "u",
        "password": "p",
    }
    assert EMAIL.validate_config({"host": "127.0.0.1", "port": "2525", "tls": "none"})["tls"] == "none"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "host is required for channel type 'email': the SMTP server's host name"),
        ({"host": "smtp.example.org", "sender": "x"}, "unknown config key 'sender' for channel type 'email' "
         "(known keys: host, password, port, tls, username)"),
        ({"host": "smtp://smtp.example.org"}, "host must be a host name or an IP address, without a port or "
         "scheme, got 'smtp://smtp.example.org'"),
        ({"host": "smtp.example.org", "port": "0"}, "port must be a whole number from 1 to 65535, got '0'"),
        ({"host": "smtp.example.org", "port": "smtp"}, "port must be a whole number from 1 to 65535, got 'smtp'"),
        ({"host": "smtp.example.org", "tls": "yes"}, "tls must be one of starttls, ssl, none, got 'yes'"),
        ({"host": "smtp.example.org", "tls": "none"}, "tls=none is only allowed for a loopback host (127.0.0.1, "
         "::1, localhost), not 'smtp.example.org'"),
        ({"host": "smtp.example.org", "username": "u"}, "username and password go together: give both, or "
         "neither for a server without login"),
    ],
)  # fmt: skip
def test_bad_values_are_refused_by_name(config, message):
    with pytest.raises(ChannelConfigError) as raised:
        EMAIL.validate_config(config)
    assert str(raised.value) == message


def test_add_checks_the_login_and_prints_no_password(workspace, smtp, settings):
    settings.BASE_URL = "https://herald.example.org"

    output = add(workspace, "--address=reminders@clinic.example.org", *config_args(smtp.channel_config()), "--json")

    channel = Channel.objects.get()
    assert smtp.logins == [("PLAIN", "herald")]
    assert json.loads(output) == {
        "uuid": str(channel.uuid),
        "name": "Clinic mail",
        "type": "email",
        "address": "reminders@clinic.example.org",
        "schemes": ["mailto"],
        "country": None,
        "tps": None,
        "is_active": True,
        "callback_urls": {
            "unsubscribe": f"https://herald.example.org/c/email/{channel.uuid}/{channel.callback_secret}/unsubscribe"
        },
        "config": {
            "host": "127.0.0.1",
            "port": str(smtp.port),
            "tls": "none",
            "username": "herald",
            "password": "********",
        },
    }
    assert smtp.PASSWORD not in output
    assert channel.config["password"] == smtp.PASSWORD


@pytest.mark.parametrize(
    ("address", "config", "message"),
    [
        (
            "reminders@clinic.example.org",
            {"password": "wrong"},
            "could not use the SMTP server: SMTP server refused the login: "
            "535 5.7.8 Authentication credentials invalid",
        ),
        (
            "+250788000000",
            {},
            "an email channel's --address is its sender and must be an e-mail address, got '+250788000000'",
        ),
    ],
)
def test_add_refuses_a_bad_login_or_sender_and_creates_nothing(workspace, smtp, address, config, message):
    with pytest.raises(CommandError) as raised:
        add(workspace, f"--address={address}", *config_args(smtp.channel_config(**config)))

    assert message in str(raised.value)
    assert "wrong" not in str(raised.value)
    assert not Channel.objects.exists()


def test_add_refuses_a_server_that_does_not_answer(workspace, settings):
    settings.CHANNEL_CONNECT_TIMEOUT = 1
    port = unreachable_url().rsplit(":", 1)[1].split("/")[0]

    with pytest.raises(CommandError) as raised:
        add(workspace, "--address=a@example.org", "--config", "host=127.0.0.1", f"port={port}", "tls=none")

    assert f"could not use the SMTP server: SMTP server 127.0.0.1:{port} unreachable: " in str(raised.value)
    assert not Channel.objects.exists()


def test_add_without_a_base_url_warns_that_emails_go_without_an_unsubscribe_link(workspace, smtp, settings):
    settings.BASE_URL = ""

    output = add(workspace, "--address=reminders@clinic.example.org", *config_args(smtp.channel_config()))

    assert "Warning: HERALD_BASE_URL is not set, so e-mails go without an unsubscribe link until it is." in output
