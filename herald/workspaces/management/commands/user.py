"""`herald user create --workspace UUID --email E [--role admin|editor|agent] [--password-stdin]` and
`herald user password --email E [--password-stdin]`: the people who sign in to the web interface (at `/`).

The password is asked twice on a terminal, or read as one line from standard input with `--password-stdin` (for
scripts); it is never an argument, which other users of the machine could read in the process list."""

import getpass
import sys

from django.core.management.base import CommandError

from herald.subcommands import ActionCommand
from herald.workspaces.models import Role
from herald.workspaces.provisioning import ProvisioningError, change_password, create_user, find_workspace


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            raise CommandError("The two passwords differ: nothing was changed.")
    if not password:
        raise CommandError("No password given: nothing was changed.")
    return password


class Command(ActionCommand):
    user_errors = (ProvisioningError,)
    help = "Manage the users who sign in to the web interface."

    def add_actions(self, actions):
        create = actions.add_parser(
            "create",
            help="create a user who signs in with an e-mail address and password, a member of a workspace",
            description="An existing user becomes a member of this workspace too (or changes role) and gets the "
            "new password.",
        )
        create.add_argument("--workspace", required=True, metavar="UUID", help="the workspace's UUID")
        create.add_argument("--email", required=True, help="the address they sign in with")
        create.add_argument(
            "--role", choices=[role.label for role in Role], help="their role in the workspace (default admin)"
        )
        self.password_option(create)

        password = actions.add_parser("password", help="set a user's password (their signed-in sessions end)")
        password.add_argument("--email", required=True, help="the address they sign in with")
        self.password_option(password)

    @staticmethod
    def password_option(parser) -> None:
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password as one line from standard input instead of asking twice",
        )

    def handle_create(self, *, workspace, email, role, password_stdin, **_):
        found = find_workspace(workspace)
        membership = create_user(found, email, role, read_password(password_stdin))
        self.stdout.write(
            f"{membership.user.email} ({membership.get_role_display()}) can sign in to {found.name} at /."
        )

    def handle_password(self, *, email, password_stdin, **_):
        change_password(email, read_password(password_stdin))
        self.stdout.write(f"Changed the password of {email}.")
