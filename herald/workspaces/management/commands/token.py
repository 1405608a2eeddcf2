"""`herald token create --workspace UUID --email E [--role admin|editor] [--json]` (agents get none),
`herald token list --workspace UUID [--json]` and `herald token revoke --workspace UUID [TOKEN ...] [--email E]`."""

import json

from herald.subcommands import ActionCommand
from herald.workspaces.models import APIToken, Membership, Role
from herald.workspaces.provisioning import (
    ProvisioningError,
    active_tokens,
    create_token,
    find_workspace,
    revoke_tokens,
)


def key_hint(token: APIToken) -> str | None:
    """What `list` shows of a key: its first characters, never the key (older tokens have none on record)."""
    return f"{token.prefix}…" if token.prefix else None


def when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def describe(token: APIToken, role: str | None) -> dict:
    return {
        "id": token.id,
        "prefix": token.prefix or None,
        "email": token.user.email,
        "role": role,
        "created_on": token.created_on.isoformat(),
        "last_used_on": token.last_used_on.isoformat() if token.last_used_on else None,
    }


def table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


class Command(ActionCommand):
    user_errors = (ProvisioningError,)
    help = "Manage API tokens."

    def add_actions(self, actions):
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
            help=(
                "their role: sets it for a new member (default admin) and changes it for an existing one; agents "
                "can't have tokens"
            ),
        )
        create.add_argument("--json", action="store_true", dest="as_json", help="print the token as JSON")

        listing = actions.add_parser(
            "list",
            help="list a workspace's working tokens: id, key prefix, owner, role, created, last used (never the key)",
        )
        listing.add_argument("--workspace", required=True, metavar="UUID", help="the workspace's UUID")
        listing.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object a line")

        revoke = actions.add_parser(
            "revoke",
            help="revoke tokens at once: by id or key prefix (as `list` shows them), or all of a user's",
            description="All or nothing: if one of the tokens named is not found, none is revoked.",
        )
        revoke.add_argument("--workspace", required=True, metavar="UUID", help="the workspace's UUID")
        revoke.add_argument("tokens", nargs="*", metavar="TOKEN", help="a token's id or key prefix (or whole key)")
        revoke.add_argument("--email", help="revoke every token of this user in the workspace")

    def handle_create(self, *, workspace, email, role, as_json, **_):
        token, key = create_token(find_workspace(workspace), email, role)
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

    def handle_list(self, *, workspace, as_json, **_):
        tokens = active_tokens(find_workspace(workspace))
        if as_json:
            for token in tokens:
                self.stdout.write(json.dumps(describe(token, token.role_name)))
            return
        rows = [["ID", "KEY", "EMAIL", "ROLE", "CREATED", "LAST USED"]]
        rows += [
            [
                str(t.id),
                key_hint(t) or "-",
                t.user.email,
                t.role_name or "(not a member)",
                when(t.created_on),
                when(t.last_used_on),
            ]
            for t in tokens
        ]
        for line in table(rows):
            self.stdout.write(line)

    def handle_revoke(self, *, workspace, tokens, email, **_):
        revoked = revoke_tokens(find_workspace(workspace), tokens, email)
        if not revoked:
            self.stdout.write("Nothing to revoke: those tokens were revoked already.")
        for token in revoked:
            hint = f" ({key_hint(token)})" if token.prefix else ""
            self.stdout.write(f"Revoked token {token.id}{hint} of {token.user.email}.")
