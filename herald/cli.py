"""The `herald` command: Django's management commands under Herald's settings.

`herald serve`, `herald workspace create`, `herald token create`, `herald contact import` ... are management commands
living in the app that owns their noun. `herald help` lists Herald's own, one line each; `herald help --all` adds
Django's; `herald help COMMAND` shows one.

Before running a command (not help or version), the data dir is made ready (herald/datadir.py): importing settings
writes nothing, so `herald help` leaves the folder it runs in as it was. A bad HERALD_* value is one line on stderr
and exit status 2, before Django starts.
"""

import os
import sys

from herald import config, datadir

# How `herald help` groups Herald's commands; one not named here is listed under "Other".
GROUPS = {
    "Run Herald": ["serve", "web", "worker", "migrate"],
    "Workspaces and access": ["workspace", "token", "member", "user"],
    "Channels": ["channel"],
    "Contacts": ["contact"],
}
# Django's commands that belong with Herald's (migrate: `herald web` needs it run first).
DJANGO_COMMANDS_SHOWN = {"migrate"}
HELP_ONLY = {"help", "version", "--help", "-h", "--version"}


def needs_data_dir(args: list[str]) -> bool:
    """Every command reads or writes the data dir (database, queue, secret key) but asking for help."""
    return bool(args) and args[0] not in HELP_ONLY and not {"-h", "--help"} & set(args)


def _utility_class():
    # Django is imported only after the configuration was read and the data dir made ready.
    from django.core.management import ManagementUtility, get_commands, load_command_class  # noqa: PLC0415 — Django is imported only once the configuration is read and the data dir ready

    class HeraldUtility(ManagementUtility):
        def main_help_text(self, commands_only: bool = False) -> str:
            if commands_only or "--all" in self.argv:
                return super().main_help_text(commands_only)
            return herald_help_text(self.prog_name, get_commands(), load_command_class)

    return HeraldUtility


def herald_help_text(prog: str, commands: dict[str, str], load) -> str:
    """Herald's commands, grouped, each with the first line of its help; aliases left out."""
    ours = {name: load(app, name) for name, app in commands.items() if app.startswith("herald.")}
    ours.update({name: load(commands[name], name) for name in DJANGO_COMMANDS_SHOWN if name in commands})
    ours = {name: command for name, command in ours.items() if not getattr(command, "alias_of", None)}
    grouped = {title: [n for n in names if n in ours] for title, names in GROUPS.items()}
    listed = {name for names in grouped.values() for name in names}
    grouped["Other"] = sorted(set(ours) - listed)
    width = max(map(len, ours))
    lines = [f"Usage: {prog} COMMAND [ACTION] [options]", ""]
    for title, names in grouped.items():
        if names:
            lines.append(f"{title}:")
            lines += [f"  {name:<{width}}  {first_sentence(ours[name].help)}" for name in names]
            lines.append("")
    lines.append(f"`{prog} help COMMAND` shows a command's options; `{prog} help --all` lists Django's commands too.")
    return "\n".join(lines)


def first_sentence(text: str) -> str:
    """A command's help up to its first full stop: one line in the listing."""
    sentence = " ".join((text or "").split()).partition(". ")[0]
    return sentence.removesuffix(".")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    try:
        configuration = config.read()
    except config.ConfigError as error:
        sys.stderr.write(f"herald: {error}\n")
        sys.exit(2)
    if needs_data_dir(args):
        datadir.prepare(configuration)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "herald.settings")
    _utility_class()(["herald", *args]).execute()


if __name__ == "__main__":
    main()
