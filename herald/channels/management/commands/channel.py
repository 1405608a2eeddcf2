"""`herald channel add --workspace UUID --type T --name N [--address A] [--schemes tel,…] [--country RW] [--tps N]
[--config KEY=VALUE …] [--json]`, `herald channel list --workspace UUID [--json]`, `herald channel show UUID
[--json]`, `herald channel disable|enable UUID`, `herald channel rotate-secret UUID [--json]` and
`herald channel sync-templates UUID [--json]`."""

import argparse
import json
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from herald.channels.callbacks import activate_channel, callback_urls
from herald.channels.models import Channel, new_callback_secret
from herald.channels.redaction import shown_config
from herald.channels.registry import TYPE_DEFAULT, TYPES, ChannelConfigError, create_channel, get_type
from herald.channels.templates import sync_templates
from herald.msgs.models import Msg, MsgStatus
from herald.subcommands import ActionCommand, comma_list
from herald.workspaces.provisioning import ProvisioningError, find_workspace


def tps_value(text: str) -> int | None:
    """`--tps`: a whole number of messages per second, or `unlimited` (no limit, even where the type has one)."""
    if text.strip().lower() == "unlimited":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a whole number nor 'unlimited'") from None


def parse_config(pairs: list[str]) -> dict[str, Any]:
    """`["send_url=https://…", "headers.X-Api-Key=secret"]` → a config dict; `a.b=v` sets key `b` of object `a`."""
    config: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CommandError(f"Bad --config {pair!r}: write KEY=VALUE, e.g. send_url=https://gateway.example/send")
        parent, dot, child = key.partition(".")
        if dot:
            nested = config.setdefault(parent, {})
            if not isinstance(nested, dict):
                raise CommandError(f"Bad --config {pair!r}: {parent} is already set to a plain value")
            nested[child] = value
        else:
            config[key] = value
    return config


def describe(channel: Channel) -> dict[str, Any]:
    return {
        "uuid": str(channel.uuid),
        "name": channel.name,
        "type": channel.channel_type,
        "address": channel.address or None,
        "schemes": channel.schemes,
        "country": channel.country or None,
        "tps": channel.tps,
        "is_active": channel.is_active,
        "callback_urls": callback_urls(channel),
    }


def find_channel(channel_uuid: str) -> Channel:
    try:
        channel = Channel.objects.select_related("workspace").filter(uuid=channel_uuid).first()
    except ValidationError:
        channel = None
    if channel is None:
        raise CommandError(f"No channel with UUID {channel_uuid!r}: `herald channel list --workspace UUID` shows them.")
    return channel


def waiting_messages(channel: Channel) -> int:
    """Messages queued on the channel, or waiting for a retry: what a disabled channel holds back."""
    return Msg.objects.outgoing().filter(channel=channel, status__in=[MsgStatus.QUEUED, MsgStatus.ERRORED]).count()


class Command(ActionCommand):
    help = "Manage channels: what sends a workspace's messages."
    user_errors = (ProvisioningError, ChannelConfigError)

    def add_actions(self, actions: "argparse._SubParsersAction[CommandParser]") -> None:
        add = actions.add_parser(
            "add",
            help="add a channel to a workspace and print its UUID (and its callback URLs, if its type has any)",
            description="Types: "
            + "; ".join(
                f"{code} ({kind.name}, config: {', '.join(kind.config_keys) or 'none'})" for code, kind in TYPES.items()
            ),
        )
        add.add_argument("--workspace", required=True, metavar="UUID", help="the workspace's UUID")
        add.add_argument("--type", required=True, dest="channel_type", choices=sorted(TYPES), help="channel type")
        add.add_argument("--name", required=True, help="its name")
        add.add_argument("--address", default="", help="what it sends from, e.g. its phone number (`{{from}}`)")
        add.add_argument(
            "--schemes", type=comma_list, help="comma-separated URN schemes it sends to (default: the type's)"
        )
        add.add_argument("--country", help="two-letter country of its number: tel URNs of other countries avoid it")
        add.add_argument(
            "--tps",
            type=tps_value,
            default=TYPE_DEFAULT,
            metavar="N|unlimited",
            help="messages per second it may send, SMS segments for tel URNs (default: the type's own limit, if any)",
        )
        add.add_argument(
            "--config",
            nargs="+",
            action="extend",
            default=[],
            metavar="KEY=VALUE",
            help="type settings, e.g. send_url=https://… send_method=GET headers.X-Api-Key=secret",
        )
        add.add_argument("--json", action="store_true", dest="as_json", help="print the channel as JSON")

        listing = actions.add_parser("list", help="list a workspace's channels")
        listing.add_argument("--workspace", required=True, metavar="UUID", help="the workspace's UUID")
        listing.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object a line")

        show = actions.add_parser("show", help="show a channel, with its callback URLs")
        show.add_argument("channel_uuid", metavar="UUID", help="the channel's UUID")
        show.add_argument("--json", action="store_true", dest="as_json", help="print the channel as JSON")

        disable = actions.add_parser(
            "disable",
            help="stop a channel: it sends nothing and refuses its callbacks; its queued messages wait",
            description="New messages are routed past it; messages already queued on it wait until it is enabled.",
        )
        disable.add_argument("channel_uuid", metavar="UUID", help="the channel's UUID")
        enable = actions.add_parser("enable", help="start a disabled channel again: its waiting messages go out")
        enable.add_argument("channel_uuid", metavar="UUID", help="the channel's UUID")

        rotate = actions.add_parser(
            "rotate-secret",
            help="give a channel a new callback secret and print its new URLs (the old ones stop working at once)",
        )
        rotate.add_argument("channel_uuid", metavar="UUID", help="the channel's UUID")
        rotate.add_argument("--json", action="store_true", dest="as_json", help="print the channel as JSON")

        sync = actions.add_parser(
            "sync-templates",
            help="read the provider's message templates (WhatsApp: needs business_account_id) and print them",
            description="Templates the provider no longer lists are removed from the channel; only approved ones "
            "can be sent (api/v2/docs/templates.md).",
        )
        sync.add_argument("channel_uuid", metavar="UUID", help="the channel's UUID")
        sync.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object a template")

    def handle_add(
        self,
        *,
        workspace: str,
        channel_type: str,
        name: str,
        address: str,
        schemes: list[str] | None,
        country: str | None,
        tps: int | None,
        config: list[str],
        as_json: bool,
        **_: object,
    ) -> None:
        channel = create_channel(
            find_workspace(workspace),
            channel_type,
            name,
            address=address,
            schemes=schemes,
            country=country,
            tps=tps,
            config=parse_config(config),
        )
        try:  # the provider told where to call back, for types that register their webhook by API
            activated = activate_channel(channel)
        except ChannelConfigError as exc:
            raise CommandError(f"Channel not added: {exc}") from None
        if as_json:
            self.stdout.write(json.dumps({**describe(channel), "config": shown_config(channel.config)}))
        else:
            self.stdout.write(str(channel.uuid))
            self.write_callback_urls(channel)
            if activated:
                self.stdout.write(activated)
        self.warn_without_base_url(channel)

    def handle_list(self, *, workspace: str, as_json: bool, **_: object) -> None:
        channels = find_workspace(workspace).channels.order_by("created_on", "id")
        for channel in channels:
            if as_json:
                self.stdout.write(json.dumps(describe(channel)))
            else:
                active = "" if channel.is_active else "  (disabled)"
                tps = f"{channel.tps}/s" if channel.tps else "unlimited"
                self.stdout.write(
                    f"{channel.uuid}  {channel.channel_type:<8}  {channel.name}  {channel.address or '-'}  "
                    f"{','.join(channel.schemes)}  {channel.country or '-'}  {tps}{active}"
                )

    def handle_show(self, *, channel_uuid: str, as_json: bool, **_: object) -> None:
        channel = find_channel(channel_uuid)
        if as_json:
            self.stdout.write(json.dumps({**describe(channel), "workspace": str(channel.workspace.uuid)}))
        else:
            rows = {
                "uuid": channel.uuid,
                "name": channel.name,
                "type": channel.channel_type,
                "workspace": f"{channel.workspace.uuid} ({channel.workspace.name})",
                "address": channel.address or "-",
                "schemes": ",".join(channel.schemes),
                "country": channel.country or "-",
                "tps": f"{channel.tps}/s" if channel.tps else "unlimited",
                "status": "enabled" if channel.is_active else f"disabled ({waiting_messages(channel)} messages wait)",
            }
            for label, value in rows.items():
                self.stdout.write(f"{label:<10} {value}")
            self.write_callback_urls(channel)
        self.warn_without_base_url(channel)

    def handle_disable(self, *, channel_uuid: str, **_: object) -> None:
        channel = find_channel(channel_uuid)
        Channel.objects.filter(id=channel.id).update(is_active=False)
        self.stdout.write(
            f"Channel {channel.uuid} ({channel.name}) is disabled: it sends nothing, new messages are routed past it "
            f"and its callback URLs are refused. {waiting_messages(channel)} messages queued on it wait for "
            "`herald channel enable`."
        )

    def handle_enable(self, *, channel_uuid: str, **_: object) -> None:
        channel = find_channel(channel_uuid)
        Channel.objects.filter(id=channel.id).update(is_active=True)
        self.stdout.write(
            f"Channel {channel.uuid} ({channel.name}) is enabled: its {waiting_messages(channel)} waiting messages "
            "go out at the next tick of a running worker."
        )

    def handle_rotate_secret(self, *, channel_uuid: str, as_json: bool, **_: object) -> None:
        channel = find_channel(channel_uuid)
        if not get_type(channel.channel_type).callback_actions:
            raise CommandError(f"A {channel.channel_type} channel takes no callbacks: it has no secret to rotate.")
        channel.callback_secret = new_callback_secret()
        channel.save(update_fields=["callback_secret"])
        if as_json:
            self.stdout.write(json.dumps(describe(channel)))
        else:
            self.stdout.write(f"New callback secret for channel {channel.uuid}: the old URLs are refused from now on.")
            self.write_callback_urls(channel)
        self.warn_without_base_url(channel)

    def handle_sync_templates(self, *, channel_uuid: str, as_json: bool, **_: object) -> None:
        channel = find_channel(channel_uuid)
        result = sync_templates(get_type(channel.channel_type), channel)
        for item in sorted(result.listed, key=lambda t: (t.name, t.locale)):
            variables = sum(len(c["variables"]) for c in item.components if c["name"] == "body")
            if as_json:
                self.stdout.write(json.dumps({"name": item.name, "locale": item.locale, "status": item.status,
                                              "body_variables": variables}))  # fmt: skip
            else:
                self.stdout.write(f"{item.name}  {item.locale}  {item.status}  {variables} body variables")
        if not as_json:
            self.stdout.write(f"Channel {channel.uuid} ({channel.name}): {result.summary()}")

    def write_callback_urls(self, channel: Channel) -> None:
        urls = callback_urls(channel)
        if not urls:
            return
        self.stdout.write(get_type(channel.channel_type).callback_help)
        for action, url in urls.items():
            self.stdout.write(f"  {action:<10} {url}")

    def warn_without_base_url(self, channel: Channel) -> None:
        if callback_urls(channel) and not settings.BASE_URL:
            self.stderr.write(
                "HERALD_BASE_URL is not set, so the callback URLs are paths: put the address your gateway reaches "
                "Herald at in front of them (e.g. https://herald.example.com), or set HERALD_BASE_URL."
            )
