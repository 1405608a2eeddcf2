"""The embedded queue: kombu's file-system transport, with each message written whole before a worker can see it.

kombu's own `_put` creates the message file and then writes it. A worker polling the folder in between takes the
empty file, fails to decode it and stops for good ("Unrecoverable error: JSONDecodeError"): under a few dozen
concurrent POSTs that stopped `herald serve`'s worker within seconds. Here a message is written under a name the
reader skips (it takes only `<name>.<queue>.msg`), then renamed into place, which is atomic on one file system.

Used when HERALD_BROKER_URL is unset (settings `CELERY_BROKER_TRANSPORT`).
"""

import contextlib
import os
import uuid
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


class Transport(filesystem.Transport):
    Channel = Channel
    # kombu's default counts every channel error as recoverable by reconnecting, and its retry then runs on the
    # closed channel: a full disk came out as "'NoneType' object has no attribute 'client'". Nothing a folder
    # refuses gets better by reconnecting to it, so the error (and the OSError under it) goes to the caller.
    recoverable_connection_errors = ()
    recoverable_channel_errors = ()
