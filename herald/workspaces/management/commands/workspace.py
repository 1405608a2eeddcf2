"""`herald workspace create --name N [--country RW] [--languages eng,spa] [--timezone Africa/Kigali] [--anonymous]
[--api-rate v2=20/minute] [--media-quota BYTES]` and
`herald workspace update --workspace UUID [--name N] [--country C] [--languages L] [--timezone TZ]
[--send-window "DAYS START-END [TZ]" | none]`."""

import json

from herald.subcommands import ActionCommand, comma_list
from herald.workspaces.models import Workspace
from herald.workspaces.provisioning import ProvisioningError, create_workspace, find_workspace, update_workspace

LANGUAGES_HELP = "comma-separated ISO 639-3 codes it sends in; the first is the primary language"
TIMEZONE_HELP = "the IANA zone of its local time, e.g. Africa/Kigali"
SEND_WINDOW_HELP = (
    "when its messages may go by default, e.g. 'mon-fri 08:00-20:00' or 'sat,sun 10:00-16:00 Africa/Kigali' (the"
    " workspace's timezone unless one is given; an end before the start spans midnight), or 'none' for any time"
)


def describe(workspace: Workspace) -> dict:
    return {
        "uuid": str(workspace.uuid),
        "name": workspace.name,
        "country": workspace.country or None,
        "languages": workspace.languages,
        "timezone": workspace.timezone,
        "anon": workspace.is_anonymous,
        "api_rates": workspace.api_rates,
        "media_quota_bytes": workspace.media_quota_bytes,
        "send_window": workspace.send_window,
    }


class Command(ActionCommand):
    user_errors = (ProvisioningError,)
    help = "Manage workspaces."

    def add_actions(self, actions):
        create = actions.add_parser("create", help="create a workspace and print its UUID")
        create.add_argument("--name", required=True, help="its name")
        create.add_argument("--country", help="two-letter country for phone numbers without a country code, e.g. RW")
        create.add_argument("--languages", type=comma_list, help=f"{LANGUAGES_HELP} (default eng)")
        create.add_argument(
            "--timezone",
            help=f"{TIMEZONE_HELP} (default: the country's zone when it has only one, else UTC)",
        )
        create.add_argument("--anonymous", action="store_true", help="hide contacts' URNs from the API")
        create.add_argument(
            "--api-rate",
            dest="api_rates",
            nargs="+",
            action="extend",
            metavar="SCOPE=RATE",
            help="API rate limit overrides, e.g. v2=20/minute v2.contacts=5000/hour",
        )
        create.add_argument(
            "--media-quota",
            metavar="BYTES",
            help="bytes of uploads it may keep, 0 for no limit (default: HERALD_MEDIA_QUOTA_BYTES)",
        )
        create.add_argument("--json", action="store_true", dest="as_json", help="print the workspace as JSON")

        update = actions.add_parser(
            "update",
            help="change a workspace's name, country, languages, timezone or send window",
            description="Only what is given changes; a new country leaves the timezone as it is.",
        )
        update.add_argument("--workspace", required=True, metavar="UUID", help="the workspace's UUID")
        update.add_argument("--name", help="its new name")
        update.add_argument("--country", help="two-letter country for phone numbers without a country code")
        update.add_argument("--languages", type=comma_list, help=LANGUAGES_HELP)
        update.add_argument("--timezone", help=TIMEZONE_HELP)
        update.add_argument("--send-window", metavar="WINDOW", help=SEND_WINDOW_HELP)
        update.add_argument("--json", action="store_true", dest="as_json", help="print the workspace as JSON")

    def handle_create(self, *, name, country, languages, timezone, anonymous, api_rates, media_quota, as_json, **_):
        workspace = create_workspace(name, country, languages, anonymous, api_rates, media_quota, timezone)
        self.stdout.write(json.dumps(describe(workspace)) if as_json else str(workspace.uuid))

    def handle_update(self, *, workspace, name, country, languages, timezone, send_window, as_json, **_):
        workspace = update_workspace(find_workspace(workspace), name, country, languages, timezone, send_window)
        summary = f"Updated {workspace.name} ({workspace.uuid})."
        self.stdout.write(json.dumps(describe(workspace)) if as_json else summary)
