"""The embedded queue: kombu's file-system transport, with each message written whole before a worker can see it.

kombu's own `_put` creates the message file and then writes it. A worker polling the folder in between takes the
empty file, fails to decode it and stops for good ("Unrecoverable error: JSONDecodeError"): under a few dozen
concurrent POSTs that stopped `herald serve`'s worker within seconds. Here a message is written under a name the
reader skips (it takes only `<name>.<queue>.msg`), then renamed into place, which is atomic on one file system.

A worker waiting for work doesn't only poll the folder: each process that drains the queue listens on a socket of
its own (`Waker`), and each message put wakes every listener at once, so a task starts within a millisecond or two
of being queued rather than up to a polling interval later (the poll stays, as the fallback for a lost wake-up).

Used when HERALD_BROKER_URL is unset (settings `CELERY_BROKER_TRANSPORT`).
"""

import contextlib
import os
import select
import socket
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # The same name as kombu's (its time prefix keeps the queue first-in, first-out).
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".partial"
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            # A full disk lets the file be created and then refuses its bytes: leave no empty file behind.
            _remove(partial)
            raise ChannelError(f"Cannot add a message to the queue folder: {exc.strerror}") from exc
        wake_listeners(self.data_folder_out)

    def queue_bind(self, queue, exchange=None, routing_key="", arguments=None, **kwargs):
        exchange = exchange or "amq.direct"  # as kombu's
        try:
            super().queue_bind(queue, exchange, routing_key, arguments, **kwargs)
        except ChannelError:
            # kombu notes the binding in memory, then writes the exchange's table in place. Cut short (a full disk),
            # that left this process sure of a binding no file holds (its messages then went to no queue) and an
            # empty table no later bind could read. Undo both, so that the next declaration writes it afresh.
            self.state.binding_delete(queue, exchange, routing_key)
            table = self._exchange_file(exchange)
            with contextlib.suppress(OSError):
                if table.stat().st_size == 0:
                    table.unlink()
            raise


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


# Listeners register as files in this folder of the queue folder; each file's name is its socket's address.
WAKE_FOLDER = "wake"
_CAN_WAKE = hasattr(socket, "AF_UNIX") and os.uname().sysname == "Linux"  # Linux's abstract socket namespace


def _address(name: str) -> str:
    # Abstract (the leading NUL): no path on disk, so no length limit from a deep data dir, nothing to clean up.
    return f"\0herald-queue-wake-{name}"


class Waker:
    """A socket a draining process waits on between polls; registered in `<queue folder>/wake/` so that puts find
    it. A listener that died leaves its file behind: the next put's refused send removes it."""

    def __init__(self, queue_folder: str):
        self.folder = Path(queue_folder) / WAKE_FOLDER
        self.folder.mkdir(exist_ok=True)
        self.name = uuid.uuid4().hex
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(_address(self.name))
        self.socket.setblocking(False)
        (self.folder / self.name).touch()

    def wait(self, seconds: float) -> None:
        """Until a put wakes us, or `seconds` pass; then forget every wake-up that came meanwhile."""
        select.select([self.socket], [], [], seconds)
        with contextlib.suppress(BlockingIOError):
            while self.socket.recv(16):
                pass

    def close(self) -> None:
        _remove(str(self.folder / self.name))
        self.socket.close()


def wake_listeners(queue_folder: str) -> None:
    """Wake every process waiting on the queue folder (a datagram each; a full buffer means it is awake anyway)."""
    if not _CAN_WAKE:
        return
    try:
        names = os.listdir(Path(queue_folder) / WAKE_FOLDER)
    except FileNotFoundError:
        return  # nobody has drained this folder yet
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.setblocking(False)
        for name in names:
            try:
                sender.sendto(b"!", _address(name))
            except (ConnectionRefusedError, FileNotFoundError):
                _remove(os.path.join(queue_folder, WAKE_FOLDER, name))  # its process is gone
            except (BlockingIOError, OSError):
                pass  # its buffer is full: it has wake-ups waiting already


class Transport(filesystem.Transport):
    Channel = Channel
    # kombu's default counts every channel error as recoverable by reconnecting, and its retry then runs on the
    # closed channel: a full disk came out as "'NoneType' object has no attribute 'client'". Nothing a folder
    # refuses gets better by reconnecting to it, so the error (and the OSError under it) goes to the caller.
    recoverable_connection_errors = ()
    recoverable_channel_errors = ()
    _waker: Waker | None = None

    def drain_events(self, connection, timeout=None):
        """Deliver the next message; between empty polls, wait on the `Waker` (at most a polling interval)."""
        if not _CAN_WAKE:
            return super().drain_events(connection, timeout)
        if self._waker is None:
            self._waker = Waker(self.client.transport_options.get("data_folder_in") or ".")
        started = monotonic()
        while True:
            try:
                return self.cycle.get(self._deliver, timeout=timeout)
            except Empty:
                pass
            wait = self.polling_interval or 1.0
            if timeout is not None:
                left = timeout - (monotonic() - started)
                if left <= 0:
                    raise TimeoutError()
                wait = min(wait, left)
            self._waker.wait(wait)

    def close_connection(self, connection):
        if self._waker is not None:
            self._waker.close()
            self._waker = None
        super().close_connection(connection)
