"""`herald` as a real process: `herald help` shows Herald's commands first and writes nothing; a bad HERALD_* value
stops any command with one line."""

import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, load_command_class

from herald.testing.processes import herald_env, run_herald

HERALDS_COMMANDS = ["serve", "web", "worker", "migrate", "workspace", "token", "member", "user", "channel", "contact"]


def herald(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """`herald ARGS` in `cwd`, with none of this test run's HERALD_* settings, and its data dir where the default
    puts it: ./var there."""
    return run_herald(*args, env=herald_env(cwd / "var", **env), cwd=cwd)


def listed(help_text: str) -> list[str]:
    """The command names `herald help` lists: the first word of each indented line."""
    return [line.split()[0] for line in help_text.splitlines() if line.startswith("  ")]


def test_help_lists_heralds_commands_one_line_each_and_leaves_an_empty_folder_empty(tmp_path):
    done = herald("help", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert sorted(listed(done.stdout)) == sorted(HERALDS_COMMANDS)  # no Django extras, no `contacts` alias
    assert "Run Herald:" in done.stdout
    assert "herald help --all" in done.stdout
    assert "startproject" not in done.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [["help", "--all"], ["help", "contact"], ["channel", "--help"], ["--version"], []])
def test_other_help_writes_nothing_either(tmp_path, args):
    done = herald(*args, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_help_all_lists_djangos_commands_too(tmp_path):
    done = herald("help", "--all", cwd=tmp_path)

    assert "startproject" in done.stdout
    assert "createsuperuser" in done.stdout
    assert {"serve", "channel", "contact"} <= set(done.stdout.split())


def test_help_command_shows_that_commands_actions(tmp_path):
    done = herald("help", "contact", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "usage: herald contact" in done.stdout
    assert "import" in done.stdout


def assert_stopped_with(done: subprocess.CompletedProcess, line: str, folder: Path) -> None:
    assert done.returncode != 0
    assert done.stderr.splitlines() == [line]
    assert done.stdout == ""
    assert list(folder.iterdir()) == []  # nothing was started, nothing written


@pytest.mark.parametrize(
    "command",
    [["serve", "--port", "0"], ["web"], ["worker"], ["migrate"], ["token", "list", "--workspace", "x"], ["help"]],
)
def test_a_bad_value_stops_every_command_with_one_line_and_a_non_zero_exit(tmp_path, command):
    done = herald(*command, cwd=tmp_path, HERALD_FANOUT_BATCH="lots")

    assert_stopped_with(done, "herald: HERALD_FANOUT_BATCH must be a whole number, got 'lots'", tmp_path)


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("HERALD_FANOUT_BATCH", "lots", "herald: HERALD_FANOUT_BATCH must be a whole number, got 'lots'"),
        ("HERALD_FANOUT_BATCH", "0", "herald: HERALD_FANOUT_BATCH must be at least 1, got '0'"),
        ("HERALD_MEDIA_QUOTA_BYTES", "-1", "herald: HERALD_MEDIA_QUOTA_BYTES must be at least 0, got '-1'"),
        ("HERALD_TICK_SECONDS", "soon", "herald: HERALD_TICK_SECONDS must be a number, got 'soon'"),
        (
            "HERALD_DEBUG",
            "maybe",
            "herald: HERALD_DEBUG must be on or off (1, true, yes, on / 0, false, no, off), got 'maybe'",
        ),
        (
            "HERALD_BASE_URL",
            "herald.example.com",
            "herald: HERALD_BASE_URL must be an http:// or https:// URL, got 'herald.example.com'",
        ),
    ],
)
def test_each_kind_of_bad_value_is_named_in_its_line(tmp_path, variable, value, line):
    assert_stopped_with(herald("worker", cwd=tmp_path, **{variable: value}), line, tmp_path)


@pytest.mark.django_db
def test_contact_import_and_its_older_plural_name_run_the_same_command():
    alias = load_command_class("herald.contacts", "contacts")
    assert isinstance(alias, type(load_command_class("herald.contacts", "contact")))
    unknown = "2b8e3e7e-8f4b-4a8e-9c3e-1d2f3a4b5c6d"
    for name in ("contact", "contacts"):
        with pytest.raises(CommandError, match="No workspace"):
            call_command(name, "import", "x.csv", "--workspace", unknown, stdout=StringIO())
