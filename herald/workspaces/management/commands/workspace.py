"""`herald workspace create --name N [--country RW] [--languages eng,spa] [--anonymous] [--api-rate v2=20/minute]
[--media-quota BYTES]`."""

import json

from herald.subcommands import ActionCommand, comma_list
from herald.workspaces.provisioning import ProvisioningError, create_workspace


class Command(ActionCommand):
    user_errors = (ProvisioningError,)
    help = "Manage workspaces."

    def add_actions(self, actions):
        create = actions.add_parser("create", help="create a workspace and print its UUID")
        create.add_argument("--name", required=True, help="its name")
        create.add_argument("--country", help="two-letter country for phone numbers without a country code, e.g. RW")
        create.add_argument(
            "--languages",
            type=comma_list,
            help="comma-separated ISO 639-3 codes it sends in; the first is the primary language (default eng)",
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

    def handle_create(self, *, name, country, languages, anonymous, api_rates, media_quota, as_json, **_):
        workspace = create_workspace(name, country, languages, anonymous, api_rates, media_quota)
        if as_json:
            output = {
                "uuid": str(workspace.uuid),
                "name": workspace.name,
                "country": workspace.country or None,
                "languages": workspace.languages,
                "anon": workspace.is_anonymous,
                "api_rates": workspace.api_rates,
                "media_quota_bytes": workspace.media_quota_bytes,
            }
            self.stdout.write(json.dumps(output))
        else:
            self.stdout.write(str(workspace.uuid))
