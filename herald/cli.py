"""The `herald` command: Django's management commands under Herald's settings.

`herald serve`, `herald workspace create`, `herald token create`, `herald contacts import` ... are management
commands living in the app that owns their noun; `herald help` lists them all.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "herald.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["herald", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
