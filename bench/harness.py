"""What every benchmark shares: result rows, throwaway databases, Django child processes, servers on 127.0.0.1.

Herald's settings are read from the environment once per process, so anything that touches a database runs in a
child process (`python -m bench.child`) whose environment names that benchmark's own data dir and database. The
child reports its result as JSON, with its own peak RSS. Ports, throwaway databases and child processes are the
tests' own helpers (`herald.testing.processes`).
"""

import contextlib
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from herald.testing.processes import Child, ThrowawayDatabase, free_port, herald_command, herald_env

ROOT = Path(__file__).resolve().parent.parent
# Each child's settings: quiet logs, and an API rate no benchmark reaches (the throttle itself still runs).
CHILD_ENV = {"HERALD_LOG_LEVEL": "WARNING", "HERALD_API_RATE": "1000000/second", "PYTHONUNBUFFERED": "1"}


@dataclass
class Row:
    """One line of the results table: a figure, the baseline measured in the same run, the target and verdict."""

    benchmark: str
    figure: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline


class BenchError(RuntimeError):
    """A benchmark could not run (a child failed, a server did not start): reported, not a traceback."""


# Databases ------------------------------------------------------------------------------------------------------


@dataclass
class Database:
    kind: str  # "sqlite" or "postgresql"
    data_dir: Path
    url: str

    @property
    def env(self) -> dict:
        return {"HERALD_DATA_DIR": str(self.data_dir), "HERALD_DATABASE_URL": self.url}

    @property
    def label(self) -> str:
        return "SQLite" if self.kind == "sqlite" else "PostgreSQL"


def for_each_size(kinds, sizes, label: str, unit: str, measure, log) -> list[Row]:
    """`measure(kind, size)`'s rows for every kind and size; a size that fails is one row saying why."""
    rows: list[Row] = []
    for kind in kinds:
        for size in sizes:
            log(f"{label}: {size:,} contacts on {kind}")
            try:
                rows += measure(kind, size)
            except BenchError as exc:
                log(f"  failed: {exc}")
                rows.append(Row(label, f"{size:,} contacts, {kind}", None, unit, note=f"failed: {exc}"))
    return rows


def postgres_admin_url() -> str | None:
    """Where to create throwaway databases: HERALD_BENCH_POSTGRES_URL, else a PostgreSQL HERALD_DATABASE_URL."""
    url = os.environ.get("HERALD_BENCH_POSTGRES_URL") or os.environ.get("HERALD_DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


@contextlib.contextmanager
def database(kind: str):
    """A fresh data dir, and a fresh database in it (SQLite) or next to the server's others (PostgreSQL); both are
    removed afterwards."""
    data_dir = Path(tempfile.mkdtemp(prefix="herald-bench-"))
    try:
        if kind == "sqlite":
            yield Database(kind, data_dir, f"sqlite:///{data_dir / 'herald.sqlite3'}")
            return
        admin = postgres_admin_url()
        if admin is None:
            raise BenchError("no PostgreSQL: set HERALD_BENCH_POSTGRES_URL=postgres://user:pass@127.0.0.1/postgres")
        with ThrowawayDatabase(admin, prefix="herald_bench") as throwaway:
            yield Database(kind, data_dir, throwaway.url)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def postgres_available() -> str | None:
    """None if throwaway PostgreSQL databases can be made, else why not."""
    url = postgres_admin_url()
    if url is None:
        return "HERALD_BENCH_POSTGRES_URL is not set"
    try:
        import psycopg  # noqa: PLC0415 — optional: without the driver this says why, rather than failing to import
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"cannot connect to {urlsplit(url).hostname}: {exc}".strip()
    return None


# Child processes ------------------------------------------------------------------------------------------------


def child_env(db: Database, **extra) -> dict:
    """The environment of a process working on `db`: Herald's defaults (the embedded broker and cache) except for
    the database, whatever HERALD_* variables the shell that started the benchmark had."""
    return {**herald_env(), **CHILD_ENV, **db.env, **{key: str(value) for key, value in extra.items()}}


def run_child(target: str, db: Database, timeout: float = 1800, env: dict | None = None, **args) -> dict:
    """Run `module:function(**args)` in a fresh Django process on `db`; its JSON result plus `peak_rss_mb`."""
    result_path = db.data_dir / f"result-{uuid.uuid4().hex}.json"
    command = [sys.executable, "-m", "bench.child", target, json.dumps(args), str(result_path)]
    process = subprocess.run(
        command, cwd=ROOT, env={**child_env(db), **(env or {})}, capture_output=True, text=True, timeout=timeout
    )
    if process.returncode != 0 or not result_path.exists():
        tail = "\n".join((process.stderr or process.stdout).strip().splitlines()[-15:])
        raise BenchError(f"{target} failed (exit {process.returncode}):\n{tail}")
    result = json.loads(result_path.read_text())
    result_path.unlink()
    return result


@contextlib.contextmanager
def background(command: list[str], env: dict, log_path: Path):
    """A server process for the duration of a block, its output in `log_path`; always stopped afterwards (with
    whatever it started)."""
    server = Child(command, env, log_path, cwd=ROOT)
    try:
        yield server
    finally:
        server.stop(timeout=20)


@contextlib.contextmanager
def herald_server(command: str, env: dict, log_path: Path):
    """`herald COMMAND --port PORT` (`web` or `serve`) on a free port, for the duration of a block: its base URL
    once it listens."""
    port = free_port()
    with background(herald_command(command, "--port", str(port)), env, log_path) as server:
        wait_for_port(port, server, log_path)
        yield f"http://127.0.0.1:{port}"


def wait_for_port(port: int, server: Child, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise BenchError(f"server exited with {server.popen.returncode}:\n{tail_of(log_path)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise BenchError(f"nothing listened on 127.0.0.1:{port} after {timeout:g} s:\n{tail_of(log_path)}")


def tail_of(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def in_threads(work, concurrency: int) -> float:
    """Run `work()` in `concurrency` threads at once; seconds until the last one ends."""
    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation: p99 of 100 samples is the 99th smallest)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]
