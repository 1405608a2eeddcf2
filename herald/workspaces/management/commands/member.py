"""`herald member list --workspace UUID [--json]`, `herald member update --workspace UUID --email E --role R` and
`herald member remove --workspace UUID --email E`.

Members are added by `herald token create`, which makes the user and their membership when needed."""

import json

from herald.subcommands import ActionCommand
from herald.workspaces.models import APIToken, Role
from herald.workspaces.provisioning import ProvisioningError, change_role, find_workspace, members, remove_member


class Command(ActionCommand):
    user_errors = (ProvisioningError,)
    help = "Manage the members of a workspace (`herald token create` adds them)."

    def add_actions(self, actions):
        listing = actions.add_parser("list", help="list a workspace's members, their roles and working tokens")
        listing.add_argument("--workspace", required=True, metavar="UUID", help="the workspace's UUID")
        listing.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object a line")

        update = actions.add_parser(
            "update",
            help="change a member's role",
            description="An agent's tokens stop working (agents can't use the API) and work again on promotion.",
        )
        update.add_argument("--workspace", required=True, metavar="UUID", help="the workspace's UUID")
        update.add_argument("--email", required=True, help="the member's e-mail address")
        update.add_argument("--role", required=True, choices=[role.label for role in Role], help="their new role")

        remove = actions.add_parser(
            "remove",
            help="remove a member from a workspace and revoke their tokens there",
            description="Their user and their memberships of other workspaces stay as they are.",
        )
        remove.add_argument("--workspace", required=True, metavar="UUID", help="the workspace's UUID")
        remove.add_argument("--email", required=True, help="the member's e-mail address")

    def handle_list(self, *, workspace, as_json, **_):
        for membership in members(find_workspace(workspace)):
            row = {
                "email": membership.user.email,
                "role": membership.get_role_display(),
                "tokens": membership.active_tokens,
            }
            if as_json:
                self.stdout.write(json.dumps(row))
            else:
                self.stdout.write(f"{row['email']}  {row['role']}  working tokens: {row['tokens']}")

    def handle_update(self, *, workspace, email, role, **_):
        workspace = find_workspace(workspace)
        membership, tokens = change_role(workspace, email, role)
        line = f"{membership.user.email} is now {membership.get_role_display()} in {workspace.name}."
        if tokens and membership.role not in APIToken.ALLOWED_ROLES:
            line += f" Their {tokens} token(s) there stop working until they are an admin or editor again."
        self.stdout.write(line)

    def handle_remove(self, *, workspace, email, **_):
        workspace = find_workspace(workspace)
        membership, revoked = remove_member(workspace, email)
        self.stdout.write(
            f"Removed {membership.user.email} ({membership.get_role_display()}) from {workspace.name}; "
            f"revoked {len(revoked)} of their tokens there."
        )
