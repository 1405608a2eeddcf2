"""What a request that fails on something unexpected answers: `{"detail": ...}` like every other API error, with
the status that says what went wrong when it is the server's storage or a service Herald needs, not the request.

- 507 Insufficient Storage: a disk is full (ENOSPC, EDQUOT), whether the database (SQLite's "database or disk is
  full", or its "disk I/O error" on a disk with no space left; PostgreSQL's `disk_full`), the queue folder or the
  media folder said so. The request did nothing that lasts: writes run in transactions, and an upload that can't
  be written whole is removed.
- 503 Service Unavailable with Retry-After: the database (PostgreSQL), the task queue (broker) or Redis can't be
  reached; retrying later may work without anyone changing anything.
- 500 for anything else: a bug. The answer says no more than that; the log has the traceback.
"""

import errno
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import kombu.exceptions
import psycopg
import redis.exceptions
from django.conf import settings

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
RETRY_AFTER_SECONDS = 30


@dataclass(frozen=True)
class ServerError:
    status: int
    detail: str
    retry_after: int | None = None


INTERNAL_ERROR = ServerError(500, "Internal server error: Herald logged it. Please report it if it persists.")


def describe(exc: BaseException) -> ServerError:
    """The answer for an exception no view handled: the first cause in its chain that Herald can name, else 500."""
    for cause in _chain(exc):
        if reason := disk_full_reason(cause):
            return ServerError(507, f"Herald's disk is full: {reason}. Nothing was stored; retry once space is freed.")
        if service := unreachable_service(cause):
            return ServerError(503, f"Herald's {service} is unreachable; retry later.", RETRY_AFTER_SECONDS)
    return INTERNAL_ERROR


def disk_full_reason(exc: BaseException) -> str | None:
    """What the storage said, if `exc` is a full disk or an exceeded quota."""
    if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
        return exc.strerror
    if isinstance(exc, sqlite3.Error):
        return _sqlite_disk_full_reason(exc)
    if isinstance(exc, psycopg.errors.DiskFull):
        return "the database has no space left"
    return None


def _sqlite_disk_full_reason(exc: sqlite3.Error) -> str | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_FULL:
        return str(exc)  # "database or disk is full": a write that found no room
    # On a full disk SQLite can't even open the database in WAL mode: its shared-memory file can't grow, and it
    # says "disk I/O error" (SQLITE_IOERR_SHMSIZE), as it does for any failed read or write. Only the disk can
    # tell the two apart.
    if code is not None and code & 0xFF == sqlite3.SQLITE_IOERR and _no_space_for_sqlite():
        return f"no space left for the database ({exc})"
    return None


def _no_space_for_sqlite() -> bool:
    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("sqlite3"):
        return False
    try:
        return os.statvfs(Path(database["NAME"]).parent).f_bavail == 0
    except OSError:
        return False


def unreachable_service(exc: BaseException) -> str | None:
    """Which service a connection failure is about, if `exc` is one."""
    # Celery raises kombu's OperationalError once its retries of a publish ran out (connection refused, timeout).
    if isinstance(exc, kombu.exceptions.OperationalError):
        return "task queue"
    if isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
        return "Redis"
    # psycopg's OperationalError without an SQLSTATE is a connection that failed or broke; class 08 is a connection
    # exception, 57P a server shutting down or starting up. (Its other OperationalErrors are the server's answers.)
    if isinstance(exc, psycopg.OperationalError) and (exc.sqlstate is None or exc.sqlstate.startswith(("08", "57P"))):
        return "database"
    return None


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    """`exc`, then what it was raised from or during (Django wraps database errors, kombu wraps OSErrors)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__
