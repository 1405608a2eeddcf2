"""The base of Herald's noun commands (`herald channel add`, `herald token list`, `herald contact import` ...): the
first argument names an action, run by the command's `handle_<action>` method; the errors a command names in
`user_errors` (e.g. provisioning's) become `CommandError`s, which Django prints as one line with a non-zero exit."""

from django.core.management.base import BaseCommand, CommandError


def comma_list(value: str) -> list[str]:
    """`"eng, spa,,fra"` → `["eng", "spa", "fra"]`: an argparse type for comma-separated options."""
    return [item for item in (part.strip() for part in value.split(",")) if item]


class ActionCommand(BaseCommand):
    # Errors whose message is meant for the operator as is (each command names its own: this module sits below the
    # apps whose commands build on it).
    user_errors: tuple[type[Exception], ...] = ()

    def add_arguments(self, parser):
        self.add_actions(parser.add_subparsers(dest="action", required=True, metavar="ACTION"))

    def add_actions(self, actions) -> None:
        """Add one sub-parser per action, e.g. `actions.add_parser("list", help=...)`."""
        raise NotImplementedError

    def handle(self, *args, action, **options):
        handler = getattr(self, f"handle_{action.replace('-', '_')}")
        try:
            return handler(**options)
        except self.user_errors as error:
            raise CommandError(str(error)) from None
