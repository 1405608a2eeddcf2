"""`herald channel add / list / show / disable / enable / rotate-secret`."""

import io
import json
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from herald.channels.callbacks import callback_urls
from herald.channels.models import Channel
from herald.channels.registry import get_type
from herald.msgs.models import MsgStatus
from herald.testing.factories import make_msg


def run(*args) -> str:
    out = io.StringIO()
    call_command("channel", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def run_with_stderr(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("channel", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_add_console_prints_the_uuid_and_serves_every_scheme(workspace):
    output = run("add", "--workspace", str(workspace.uuid), "--type", "console", "--name", "Demo SMS")

    channel = Channel.objects.get()
    assert output == f"{channel.uuid}\n"
    assert (channel.workspace, channel.channel_type, channel.name) == (workspace, "console", "Demo SMS")
    assert channel.schemes == list(get_type("console").schemes)
    assert (channel.tps, channel.country, channel.config) == (None, "", {})


@pytest.mark.parametrize(("tps_args", "tps"), [([], 7), (["--tps", "3"], 3), (["--tps", "unlimited"], None)])
def test_tps_left_out_is_the_types_own_limit_and_unlimited_lifts_it(workspace, monkeypatch, tps_args, tps):
    monkeypatch.setattr(type(get_type("console")), "default_tps", 7)

    run("add", "--workspace", str(workspace.uuid), "--type", "console", "--name", "C", *tps_args)

    assert Channel.objects.get().tps == tps


def test_add_external_with_json_output(workspace, settings):
    settings.BASE_URL = ""
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
        "callback_urls": {
            action: f"/c/ex/{channel.uuid}/{channel.callback_secret}/{action}"
            for action in ("sent", "delivered", "failed", "receive", "stopped")
        },
        "config": {
            "send_url": "http://127.0.0.1:9/send?to={{to}}",
            "send_method": "GET",
            "content_type": "urlencoded",
            "headers": {"X-Api-Key": "********"},  # a secret-named value is never printed
            "mt_response_check": "OK",
        },
    }
    assert channel.config["headers"] == {"X-Api-Key": "secret"}


@pytest.mark.parametrize(
    ("args", "error"),
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
        f"{second.strip()}  console   Two  -  mailto  -  5/s  (disabled)",
    ]
    listed = [json.loads(line) for line in run("list", "--workspace", str(workspace.uuid), "--json").splitlines()]
    assert [(c["name"], c["is_active"]) for c in listed] == [("One", True), ("Two", False)]


def add_gateway(workspace, *extra) -> Channel:
    run("add", "--workspace", str(workspace.uuid), "--type", "external", "--name", "Gateway",
        "--config", "send_url=http://127.0.0.1:9/send", *extra)  # fmt: skip
    return Channel.objects.get(name="Gateway")


def test_add_prints_the_callback_urls_ready_to_use(workspace, settings):
    settings.BASE_URL = "https://herald.example.com"
    output, errors = run_with_stderr(
        "add", "--workspace", str(workspace.uuid), "--type", "external", "--name", "Gateway",
        "--config", "send_url=http://127.0.0.1:9/send",
    )  # fmt: skip

    channel = Channel.objects.get()
    base = f"https://herald.example.com/c/ex/{channel.uuid}/{channel.callback_secret}"
    assert output.splitlines() == [
        str(channel.uuid),
        "Callback URLs for the gateway (GET or POST; reports: the message's {{id}} as `id`;"
        " receive: `from`, `text`; stopped: `from`):",
        f"  sent       {base}/sent",
        f"  delivered  {base}/delivered",
        f"  failed     {base}/failed",
        f"  receive    {base}/receive",
        f"  stopped    {base}/stopped",
    ]
    assert errors == ""


def test_without_a_base_url_the_urls_are_paths_and_it_says_so(workspace, settings):
    settings.BASE_URL = ""
    output, errors = run_with_stderr(
        "add", "--workspace", str(workspace.uuid), "--type", "external", "--name", "Gateway",
        "--config", "send_url=http://127.0.0.1:9/send", "--json",
    )  # fmt: skip

    channel = Channel.objects.get()
    assert (
        json.loads(output)["callback_urls"]["delivered"] == f"/c/ex/{channel.uuid}/{channel.callback_secret}/delivered"
    )
    assert "HERALD_BASE_URL is not set" in errors


def test_a_console_channel_has_no_callback_urls(workspace):
    output, errors = run_with_stderr("add", "--workspace", str(workspace.uuid), "--type", "console", "--name", "C")
    channel = Channel.objects.get()
    assert (output, errors) == (f"{channel.uuid}\n", "")
    assert json.loads(run("show", str(channel.uuid), "--json"))["callback_urls"] == {}
    with pytest.raises(CommandError, match="A console channel takes no callbacks"):
        run("rotate-secret", str(channel.uuid))


def test_show_and_list_print_the_working_urls(workspace, bob, settings):
    settings.BASE_URL = "http://127.0.0.1:8000"
    channel = add_gateway(workspace, "--tps", "5")
    msg = make_msg(bob, channel=channel, status=MsgStatus.WIRED)

    shown = run("show", str(channel.uuid)).splitlines()
    assert shown[:3] == [f"uuid       {channel.uuid}", "name       Gateway", "type       external"]
    assert f"workspace  {workspace.uuid} ({workspace.name})" in shown
    assert "status     enabled" in shown
    delivered = next(line.split()[-1] for line in shown if line.strip().startswith("delivered"))
    listed = json.loads(run("list", "--workspace", str(workspace.uuid), "--json"))
    assert json.loads(run("show", str(channel.uuid), "--json"))["callback_urls"] == listed["callback_urls"]
    assert listed["callback_urls"]["delivered"] == delivered

    response = Client().post(delivered.removeprefix(settings.BASE_URL), {"id": str(msg.uuid)})
    assert response.status_code == 200
    msg.refresh_from_db()
    assert msg.status == MsgStatus.DELIVERED


def test_rotate_secret_prints_new_urls_and_the_old_ones_stop_working(workspace, bob):
    channel = add_gateway(workspace)
    msg = make_msg(bob, channel=channel, status=MsgStatus.WIRED)
    old = callback_urls(channel)

    output = json.loads(run("rotate-secret", str(channel.uuid), "--json"))

    channel.refresh_from_db()
    new = callback_urls(channel)
    assert output["callback_urls"] == new
    assert new != old
    response = Client().post(old["sent"], {"id": str(msg.uuid)})
    assert response.status_code == 403
    msg.refresh_from_db()
    assert msg.status == MsgStatus.WIRED
    assert Client().post(new["sent"], {"id": str(msg.uuid)}).status_code == 200

    text = run("rotate-secret", str(channel.uuid)).splitlines()
    channel.refresh_from_db()
    assert text[0] == f"New callback secret for channel {channel.uuid}: the old URLs are refused from now on."
    assert text[-1].endswith(f"/c/ex/{channel.uuid}/{channel.callback_secret}/stopped")


def test_disable_and_enable(workspace, bob):
    channel = add_gateway(workspace)
    make_msg(bob, channel=channel, status=MsgStatus.QUEUED)
    wired = make_msg(bob, channel=channel, status=MsgStatus.WIRED)

    assert run("disable", str(channel.uuid)).startswith(f"Channel {channel.uuid} (Gateway) is disabled")
    channel.refresh_from_db()
    assert not channel.is_active
    assert "status     disabled (1 messages wait)" in run("show", str(channel.uuid)).splitlines()
    assert Client().post(callback_urls(channel)["delivered"], {"id": str(wired.uuid)}).status_code == 403

    assert "its 1 waiting messages go out" in run("enable", str(channel.uuid))
    channel.refresh_from_db()
    assert channel.is_active
    assert Client().post(callback_urls(channel)["delivered"], {"id": str(wired.uuid)}).status_code == 200


@pytest.mark.parametrize("action", ["show", "disable", "enable", "rotate-secret"])
@pytest.mark.parametrize("given", ["not-a-uuid", "00000000-0000-4000-8000-000000000000"])
def test_an_unknown_channel_is_a_clear_error(db, action, given):
    with pytest.raises(CommandError, match=f"No channel with UUID '{given}'"):
        run(action, given)
