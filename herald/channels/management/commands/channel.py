"""`herald channel add --workspace UUID --type T --name N [--address A] [--schemes tel,…] [--country RW] [--tps N]
[--config KEY=VALUE …] [--json]` and `herald channel list --workspace UUID [--json]`."""

import json

from django.core.management.base import BaseCommand, CommandError

from herald.channels.models import Channel
from herald.channels.types import TYPES, ChannelConfigError, create_channel
from herald.workspaces.provisioning import ProvisioningError, find_workspace


def comma_list(value: str) -> list[str]:
    return [item for item in (part.strip() for part in value.split(",")) if item]


def parse_config(pairs: list[str]) -> dict:
    """`["send_url=https://…", "headers.X-Api-Key=secret"]` → a config dict; `a.b=v` sets key `b` of object `a`."""
    config: dict = {}
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


def describe(channel: Channel) -> dict:
    return {
        "uuid": str(channel.uuid),
        "name": channel.name,
        "type": channel.channel_type,
        "address": channel.address or None,
        "schemes": channel.schemes,
        "country": channel.country or None,
        "tps": channel.tps,
        "is_active": channel.is_active,
    }


class Command(BaseCommand):
    help = "Manage channels: what sends a workspace's messages."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = actions.add_parser(
            "add",
            help="add a channel to a workspace and print its UUID",
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
        add.add_argument("--tps", type=int, help="messages per second it may send (default unlimited)")
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

    def handle(self, *args, action, **options):
        return getattr(self, f"handle_{action}")(**options)

    def handle_add(self, *, workspace, channel_type, name, address, schemes, country, tps, config, as_json, **_):
        try:
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
        except (ProvisioningError, ChannelConfigError) as e:
            raise CommandError(str(e)) from None
        if as_json:
            self.stdout.write(json.dumps({**describe(channel), "config": channel.config}))
        else:
            self.stdout.write(str(channel.uuid))

    def handle_list(self, *, workspace, as_json, **_):
        try:
            channels = find_workspace(workspace).channels.order_by("created_on", "id")
        except ProvisioningError as e:
            raise CommandError(str(e)) from None
        for channel in channels:
            if as_json:
                self.stdout.write(json.dumps(describe(channel)))
            else:
                active = "" if channel.is_active else "  (inactive)"
                tps = f"{channel.tps}/s" if channel.tps else "unlimited"
                self.stdout.write(
                    f"{channel.uuid}  {channel.channel_type:<8}  {channel.name}  {channel.address or '-'}  "
                    f"{','.join(channel.schemes)}  {channel.country or '-'}  {tps}{active}"
                )
