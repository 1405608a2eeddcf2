"""The data dir, made ready by whatever is about to use it: `herald` before any command but help (herald/cli.py), a WSGI
server loading herald.wsgi, the test run (herald/pytest_env.py). Importing settings only reads (herald/config.py).

Everything Herald writes holds contacts or credentials (the database and its WAL, queue files, media, the secret
key, the tick's schedule): readable by this user only, from the moment it is created.
"""

import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path

from herald.config import Config
from herald.config import read as read_config

PRIVATE_UMASK = 0o077


def secret_key_path(data_dir: Path) -> Path:
    return data_dir / "secret_key"


def queue_dir(data_dir: Path) -> Path:
    return data_dir / "queue"


def metrics_dir(data_dir: Path) -> Path:
    """Where each process keeps its Prometheus counters when HERALD_METRICS is on (prometheus_client's multiprocess
    mode)."""
    return data_dir / "metrics"


def ready() -> None:
    """`prepare` with the environment's configuration: for whatever starts Django by itself (a WSGI server, a test's
    child process) rather than through `herald`."""
    prepare(read_config())


def prepare(config: Config) -> None:
    """Make the data dir private, and create in it what settings read: the secret key, the queue folder."""
    os.umask(PRIVATE_UMASK)
    data_dir = _private_dir(config.data_dir)
    if not config.SECRET_KEY:
        _write_secret_key_once(secret_key_path(data_dir))
    if config.embedded_queue:
        queue_dir(data_dir).mkdir(exist_ok=True)
    if config.METRICS:
        metrics_dir(data_dir).mkdir(exist_ok=True)


def _private_dir(path: Path) -> Path:
    """The data dir, made 0700; one that others could read (made by hand, or by an older Herald) is tightened."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(0o700)
        logging.getLogger("herald").warning(
            "herald: the data dir %s was open to other users (mode %04o); it is now 0700", path, mode
        )
    return path


def _write_secret_key_once(path: Path) -> None:
    if path.exists():
        return
    # Written whole under a name of its own, then linked into place: processes starting together (the web server
    # and the worker) never read a half-written key, and all end up with the first one written.
    draft = path.with_name(f".secret_key.{os.getpid()}")
    draft.write_text(secrets.token_urlsafe(50))
    with contextlib.suppress(FileExistsError):
        os.link(draft, path)
    draft.unlink()


def read_secret_key(config: Config) -> str:
    """The key from the environment, else the one `prepare` kept in the data dir; empty before it has run (Django
    then refuses anything that needs a key, with its own message)."""
    if config.SECRET_KEY:
        return config.SECRET_KEY
    path = secret_key_path(config.data_dir)
    return path.read_text().strip() if path.exists() else ""
