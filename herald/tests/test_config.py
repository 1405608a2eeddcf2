"""README.md's configuration table and herald/config.py name the same variables with the same defaults."""

import re
from pathlib import Path

from herald import config
from herald.config import VARIABLES

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_defaults() -> dict[str, str]:
    """`{variable: default cell}` from the table under "## Configuration"; a row naming `A` / `B` has defaults
    `x` / `y`, one each."""
    section = README.read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    defaults: dict[str, str] = {}
    for row in section.splitlines():
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        names = re.findall(r"`(HERALD_[A-Z_]+)`", cells[0])
        if not names:
            continue
        values = cells[1].split(" / ") if len(names) > 1 else [cells[1]]
        assert len(values) == len(names), row
        defaults.update(zip(names, values, strict=True))
    return defaults


def test_the_readme_table_lists_every_variable_with_its_default():
    assert readme_defaults() == {var.name: var.readme_default for var in VARIABLES}


def test_each_variable_is_declared_once_with_a_meaning():
    names = [var.name for var in VARIABLES]
    assert len(names) == len(set(names))
    assert all(var.meaning for var in VARIABLES)


def test_an_empty_variable_counts_as_unset_and_values_are_typed(monkeypatch):
    monkeypatch.setenv("HERALD_FANOUT_BATCH", "")
    monkeypatch.setenv("HERALD_SEND_RETRY_DELAYS", "1, 2.5")
    monkeypatch.setenv("HERALD_LOG_LEVEL", "debug")
    monkeypatch.setenv("HERALD_REQUIRE_HTTPS", "yes")

    values = config.read()

    assert (values.FANOUT_BATCH, values.SEND_RETRY_DELAYS) == (1000, [1.0, 2.5])
    assert (values.LOG_LEVEL, values.REQUIRE_HTTPS) == ("DEBUG", True)
