"""`herald contact import FILE.csv --workspace UUID [--group NAME] [--json]`."""

import json

from django.core.management.base import CommandError

from herald.contacts.importer import BATCH_SIZE, ImportAborted, ImportResult, import_contacts, utf8_lines
from herald.controlchars import printable
from herald.subcommands import ActionCommand
from herald.workspaces.provisioning import ProvisioningError, find_workspace

IMPORT_HELP = """import contacts from a CSV file. Its header names the columns: name, language, urn:SCHEME (at least
one, e.g. urn:tel) and field:KEY (created if missing). A row whose URN is known updates that contact; others
create contacts. Bad rows are listed with their line numbers and skipped."""


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(ActionCommand):
    help = "Manage contacts."
    user_errors = (ProvisioningError,)

    def add_actions(self, actions):
        importing = actions.add_parser("import", help=IMPORT_HELP, description=IMPORT_HELP)
        importing.add_argument("file", help="the CSV file (UTF-8)")
        importing.add_argument("--workspace", required=True, help="UUID of the workspace to import into")
        importing.add_argument("--group", help="add every imported contact to this group (created if needed)")
        importing.add_argument("--json", action="store_true", dest="as_json", help="print a JSON summary")
        importing.add_argument("--batch-size", type=positive_int, default=BATCH_SIZE, help="rows written at once")
        importing.add_argument(
            "--progress-every", type=positive_int, default=10_000, help="report progress on stderr every N rows"
        )

    def handle_import(self, *, file, workspace, group, as_json, batch_size, progress_every, **_):
        target = find_workspace(workspace)
        try:
            with open(file, "rb") as raw:
                result = import_contacts(
                    target,
                    utf8_lines(raw),
                    group_name=group,
                    batch_size=batch_size,
                    progress=self.report_progress,
                    progress_every=progress_every,
                )
        except FileNotFoundError:
            raise CommandError(f"No such file: {file}") from None
        except (IsADirectoryError, PermissionError) as exc:
            raise CommandError(f"Can't read {file}: {exc.strerror}") from None
        except ImportAborted as exc:
            done = exc.result
            if done and done.created + done.updated:
                raise CommandError(f"{exc} ({done.created} contacts created, {done.updated} updated before)") from None
            raise CommandError(str(exc)) from None

        for column in result.ignored_columns:
            self.stderr.write(f"Ignored column {column!r}: not name, language, urn:SCHEME or field:KEY")
        if as_json:
            self.stdout.write(json.dumps(result.as_dict()))
        else:
            self.stdout.write(summary(result))
            for error in result.errors:
                # Reasons echo the file's cells: a line break or an escape sequence in one must not reach the terminal.
                self.stdout.write(f"  line {error.line}: {printable(error.reason)}")

    def report_progress(self, result: ImportResult) -> None:
        self.stderr.write(f"{result.rows} rows read: {summary(result)}")


def summary(result: ImportResult) -> str:
    return f"{result.created} contacts created, {result.updated} updated, {len(result.errors)} rows with errors"
