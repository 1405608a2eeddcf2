"""Shared by the reliability tests: a live installation, and the figures they report (faults injected, messages
lost, duplicates).

Each test calls `figures(...)` with its numbers; they are printed together at the end of the run, under
"reliability figures", so CI's log carries them without `-s`.
"""

import pytest

from .live import Installation

FIGURES = pytest.StashKey[list]()


@pytest.fixture
def herald(request, tmp_path, django_db_blocker):
    """A live Installation (see live.py) with the HERALD_* variables of the test module's `SETTINGS`."""
    with django_db_blocker.unblock(), Installation(tmp_path, **getattr(request.module, "SETTINGS", {})) as running:
        yield running


@pytest.fixture
def figures(request):
    """figures(faults=3, lost=0, duplicates=1, why="...") adds one line for this test to the end-of-run report."""
    lines = request.config.stash.setdefault(FIGURES, [])

    def record(**numbers) -> None:
        lines.append(f"{request.node.name}: " + ", ".join(f"{key}={value}" for key, value in numbers.items()))

    return record


def pytest_terminal_summary(terminalreporter, config):
    lines = config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.section("reliability figures")
        for line in lines:
            terminalreporter.write_line(line)
