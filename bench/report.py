"""The results table (terminal and Markdown), the machine it ran on, and `bench/RESULTS.md`."""

import datetime
import os
import platform
import re
import sqlite3
import subprocess
from pathlib import Path

from .harness import ROOT, Row, postgres_admin_url

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADERS = ("benchmark", "figure", "value", "baseline", "ratio", "target", "met?", "note")
# The hand-written reading of the results survives `--write` between these markers.
READING_START, READING_END = "<!-- reading -->", "<!-- /reading -->"


def number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms":
        text = f"{value:.1f}" if value < 10 else f"{value:,.0f}"
        return f"{text} ms"
    if unit == "MB":
        return f"{value:,.0f} MB"
    text = f"{value:,.1f}" if 0 < abs(value) < 100 and value != int(value) else f"{value:,.0f}"
    return text + unit


def cells(row: Row) -> list[str]:
    ratio = row.ratio
    baseline = number(row.baseline, row.unit)
    return [
        row.benchmark,
        row.figure,
        number(row.value, row.unit),
        f"{baseline} ({row.baseline_label})" if row.baseline_label else baseline,
        f"{ratio:.2f}×" if ratio is not None else "—",
        row.target,
        {True: "yes", False: "NO", None: ""}[row.met],
        row.note,
    ]


def text_table(rows: list[Row]) -> str:
    table = [list(HEADERS)] + [cells(row) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> dict[str, str]:
    models = [line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines() if "model name" in line]
    cpu = models[0] if models else platform.processor() or "unknown"
    memory = _command(["free", "-h"]).splitlines()
    total = memory[1].split()[1] if len(memory) > 1 else "unknown"
    info = {
        "CPU": f"{cpu}, {os.cpu_count()} cores (nproc {_command(['nproc']).strip()})",
        "memory": f"{total} (free -h)",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": postgres_version() or "not used",
        "Herald commit": _commit(),
    }
    return info


def _commit() -> str:
    commit = _command(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]).strip() or "unknown"
    changed = _command(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "herald"]).split()
    changed = [path for path in changed if "/" in path]
    return commit + (f" with uncommitted changes to {', '.join(changed)}" if changed else "")


def postgres_version() -> str | None:
    url = postgres_admin_url()
    if not url:
        return None
    try:
        import psycopg  # noqa: PLC0415 — optional: without the driver this says why, rather than failing to import

        with psycopg.connect(url, connect_timeout=3) as connection:
            version = connection.execute("SHOW server_version").fetchone()[0]
            settings = connection.execute(
                "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings "
                "WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers')"
            ).fetchone()[0]
        return f"{version} ({settings})"
    except Exception:
        return None


def write_results(rows: list[Row], command: str, seconds: float) -> Path:
    reading = _existing_reading()
    info = machine()
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    missed = [row for row in rows if row.met is False]
    parts = [
        "# Benchmark results",
        "",
        f"`{command}` on {now}, {seconds / 60:.1f} minutes. Every figure is measured against a baseline from the "
        "same run (what the baseline is: in brackets; ratio = figure / baseline). Regenerate with "
        "`python -m bench --write` (the reading below is kept).",
        "",
        "## Machine",
        "",
        *[f"- **{key}**: {value}" for key, value in info.items()],
        "",
        "## Results",
        "",
        markdown_table(rows),
        "",
        "## Targets missed",
        "",
        *([missed_line(row) for row in missed] or ["- none"]),
        "",
        READING_START,
        reading or "## Reading\n\n(to be written: which targets are met, which missed and why)",
        READING_END,
        "",
    ]
    RESULTS.write_text("\n".join(parts))
    return RESULTS


def missed_line(row: Row) -> str:
    line = f"- {row.benchmark}, {row.figure}: {number(row.value, row.unit)} against {row.target}"
    return f"{line} ({row.note})" if row.note else line


def _existing_reading() -> str | None:
    if not RESULTS.exists():
        return None
    match = re.search(re.escape(READING_START) + r"\n(.*?)\n" + re.escape(READING_END), RESULTS.read_text(), re.S)
    return match.group(1) if match else None


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _command(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
