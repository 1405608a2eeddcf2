"""`herald channel add` / `herald channel list`."""

import io
import json
import uuid

import pytest
from django.core.management import CommandError, call_command

from herald.channels.models import Channel
from herald.channels.types import get_type


def run(*args) -> str:
    out = io.StringIO()
    call_command("channel", *args, stdout=out)
    return out.getvalue()


def test_add_console_prints_the_uuid_and_serves_every_scheme(workspace):
    output = run("add", "--workspace", str(workspace.uuid), "--type", "console", "--name", "Demo SMS")

    channel = Channel.objects.get()
    assert output == f"{channel.uuid}\n"
    assert (channel.workspace, channel.channel_type, channel.name) == (workspace, "console", "Demo SMS")
    assert channel.schemes == list(get_type("console").schemes)
    assert (channel.tps, channel.country, channel.config) == (None, "", {})


def test_add_external_with_json_output(workspace):
    output = run(
        "add",
        f"--workspace={workspace.uuid}",
        "--type=external",
        "--name=Gateway",
        "--address=+250788000000",
        "--schemes=tel, whatsapp",
        "--country=rw",
        "--tps=20",
        "--config",
        "send_url=http://127.0.0.1:9/send?to={{to}}",
        "send_method=GET",
        "headers.X-Api-Key=secret",
        "mt_response_check=OK",
        "--json",
    )

    channel = Channel.objects.get()
    assert json.loads(output) == {
        "uuid": str(channel.uuid),
        "name": "Gateway",
        "type": "external",
        "address": "+250788000000",
        "schemes": ["tel", "whatsapp"],
        "country": "RW",
        "tps": 20,
        "is_active": True,
        "config": {
            "send_url": "http://127.0.0.1:9/send?to={{to}}",
            "send_method": "GET",
            "content_type": "urlencoded",
            "headers": {"X-Api-Key": "secret"},
            "mt_response_check": "OK",
        },
    }
    assert channel.config["headers"] == {"X-Api-Key": "secret"}


@pytest.mark.parametrize(
    "args, error",
    [
        (["--type", "external", "--name", "G"], "send_url is required"),
        (["--type", "external", "--name", "G", "--config", "send_url"], "Bad --config 'send_url': write KEY=VALUE"),
        (["--type", "console", "--name", "C", "--config", "a=b"], "unknown config key 'a' for channel type 'console'"),
        (["--type", "console", "--name", "  "], "name is required"),
        (["--type", "console", "--name", "C", "--schemes", "tel,smoke"], "unknown URN scheme 'smoke'"),
        (["--type", "console", "--name", "C", "--country", "XX"], "Unknown country 'XX'"),
        (["--type", "console", "--name", "C", "--tps", "0"], "tps must be a whole number of messages per second"),
        (["--type", "console", "--name", "C" * 65], "name is longer than 64 characters"),
    ],
)
def test_add_refuses_bad_input_and_creates_nothing(workspace, args, error):
    with pytest.raises(CommandError, match=error):
        run("add", "--workspace", str(workspace.uuid), *args)
    assert not Channel.objects.exists()


def test_add_to_an_unknown_workspace(db):
    with pytest.raises(CommandError, match="No workspace with UUID"):
        run("add", "--workspace", str(uuid.uuid4()), "--type", "console", "--name", "C")


def test_unknown_type_is_refused_by_the_parser(workspace):
    with pytest.raises(CommandError, match="invalid choice: 'carrier-pigeon'"):
        run("add", "--workspace", str(workspace.uuid), "--type", "carrier-pigeon", "--name", "C")


def test_list(workspace, other_workspace):
    first = run("add", "--workspace", str(workspace.uuid), "--type", "console", "--name", "One", "--schemes", "tel")
    second = run(
        "add", "--workspace", str(workspace.uuid), "--type", "console", "--name", "Two", "--schemes", "mailto",
        "--tps", "5",
    )  # fmt: skip
    run("add", "--workspace", str(other_workspace.uuid), "--type", "console", "--name", "Theirs")
    Channel.objects.filter(name="Two").update(is_active=False)

    lines = run("list", "--workspace", str(workspace.uuid)).splitlines()
    assert lines == [
        f"{first.strip()}  console   One  -  tel  -  unlimited",
        f"{second.strip()}  console   Two  -  mailto  -  5/s  (inactive)",
    ]
    listed = [json.loads(line) for line in run("list", "--workspace", str(workspace.uuid), "--json").splitlines()]
    assert [(c["name"], c["is_active"]) for c in listed] == [("One", True), ("Two", False)]
