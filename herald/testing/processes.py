"""Real processes for tests and benchmarks: free ports, throwaway PostgreSQL databases, Herald commands as children.

Shared by the live tests (`herald/msgs/tests/live.py`, `herald/api/tests/serve_process.py`) and `bench/harness.py`.
Nothing here imports Django or pytest: the benchmarks and the children's own set-up use it too, and nothing here
talks to anything but 127.0.0.1.

    port = free_port()
    with ThrowawayDatabase(server_url, prefix="herald_live") as database:      # CREATE, then DROP ... WITH (FORCE)
        worker = Child(herald_command("worker"), herald_env(data_dir, HERALD_DATABASE_URL=database.url), log)
        ...
        worker.stop()                                                          # SIGTERM, then the group's SIGKILL
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

# Bounds that end a hung child on a slow, busy machine; they don't judge speed.
STOP_LIMIT_SECONDS = 30
RUN_LIMIT_SECONDS = 120


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Environments and commands ---------------------------------------------------------------------------------------


def herald_env(data_dir: Path | None = None, **settings: str) -> dict:
    """This process's environment without its HERALD_* / DJANGO_* variables (a child reads only what it is given),
    with HERALD_DATA_DIR=data_dir and `settings` added."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HERALD_", "DJANGO_"))}
    if data_dir is not None:
        env["HERALD_DATA_DIR"] = str(data_dir)
    return {**env, **settings}


def herald_command(*args: str) -> list[str]:
    """`herald ARGS` as this interpreter runs it (the tested worktree's code, whatever `herald` is on PATH)."""
    return [sys.executable, "-m", "herald.cli", *args]


def run_herald(*args: str, env: dict, cwd: Path | None = None, timeout: float = RUN_LIMIT_SECONDS):
    """Run `herald ARGS` to its end; the CompletedProcess (text output captured)."""
    return subprocess.run(herald_command(*args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


# Databases -------------------------------------------------------------------------------------------------------


def with_path(url: str, path: str) -> str:
    """`url` with its path replaced (a database name, a Redis database number)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=path))


def postgres_url(settings_dict: dict) -> str:
    """A postgres:// URL for a Django database's settings (e.g. pytest-django's test database, for a child)."""
    credentials = f"{quote(settings_dict['USER'], safe='')}:{quote(settings_dict['PASSWORD'] or '', safe='')}@"
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"


def postgres_admin(server_url: str, statement: str) -> None:
    """Run one statement outside a transaction (CREATE / DROP DATABASE) on the server `server_url` names."""
    import psycopg  # noqa: PLC0415 — only the PostgreSQL runs need the driver loaded

    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(statement)


class ThrowawayDatabase:
    """A database of its own next to the server's others, created on entry and dropped (connections and all) on
    exit. Its name and `url` are known before it exists, so a child's environment can be written first."""

    def __init__(self, server_url: str, prefix: str = "herald_test"):
        self.server_url = server_url
        self.name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.url = with_path(server_url, "/" + self.name)

    def __enter__(self) -> "ThrowawayDatabase":
        postgres_admin(self.server_url, f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc) -> None:
        postgres_admin(self.server_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# Processes -------------------------------------------------------------------------------------------------------


def child_pids(parent: int) -> list[int]:
    """Processes whose parent is `parent` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):  # the process ended while we looked
            # "pid (command) state ppid ...": the command may hold spaces, so split after its closing bracket.
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(stat.parent.name))
    return found


def command_line(pid: int) -> list[str]:
    """The arguments `pid` was started with ([] once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def is_running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (an exited process nobody has reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class Child:
    """A command in a session of its own, so that it and everything it starts can be stopped together.

    Its output (stdout and stderr) is appended to `log`; with `pipe_stdout=True` stdout is a text pipe the caller
    reads (`child.popen.stdout`) and only stderr goes to `log`.
    """

    def __init__(self, command: list[str], env: dict, log: Path, cwd: Path | None = None, pipe_stdout: bool = False):
        with open(log, "a") as out:
            self.popen = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE if pipe_stdout else out,
                stderr=out if pipe_stdout else subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def children(self) -> list[int]:
        return child_pids(self.pid)

    def kill(self) -> None:
        """SIGKILL the command's own process only, as the kernel's OOM killer or a power cut would."""
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=STOP_LIMIT_SECONDS)

    def stop(self, timeout: float = STOP_LIMIT_SECONDS) -> int:
        """SIGTERM (a warm shutdown); whatever still runs after `timeout` seconds is killed, children too. The exit
        code."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()
            return self.popen.returncode

    def group_alive(self) -> bool:
        """Whether anything this command started still runs (e.g. a child that outlived it)."""
        try:
            os.killpg(self.pid, 0)
            return True
        except ProcessLookupError:
            return False

    def kill_group(self) -> None:
        """SIGKILL everything this command started (clean-up)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=STOP_LIMIT_SECONDS)
