"""`herald token create --workspace UUID --email E [--role admin|editor|agent] [--json]`."""

import json

from django.core.management.base import BaseCommand, CommandError

from herald.workspaces.models import Membership, Role
from herald.workspaces.provisioning import ProvisioningError, create_token, find_workspace


class Command(BaseCommand):
    help = "Manage API tokens."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser(
            "create",
            help="create an API token and print its key (shown once: only its hash is stored)",
            description="Creates the user and their membership of the workspace if needed, then a new token.",
        )
        create.add_argument("--workspace", required=True, metavar="UUID", help="the workspace's UUID")
        create.add_argument("--email", required=True, help="the token owner's e-mail address")
        create.add_argument(
            "--role",
            choices=[role.label for role in Role],
            help="their role: sets it for a new member (default admin) and changes it for an existing one",
        )
        create.add_argument("--json", action="store_true", dest="as_json", help="print the token as JSON")

    def handle(self, *args, action, **options):
        return getattr(self, f"handle_{action}")(**options)

    def handle_create(self, *, workspace, email, role, as_json, **_):
        try:
            token, key = create_token(find_workspace(workspace), email, role)
        except ProvisioningError as e:
            raise CommandError(str(e)) from None
        if as_json:
            membership = Membership.objects.get(workspace=token.workspace, user=token.user)
            output = {
                "token": key,
                "workspace": str(token.workspace.uuid),
                "email": token.user.email,
                "role": membership.get_role_display(),
            }
            self.stdout.write(json.dumps(output))
        else:
            self.stdout.write(key)
