"""The embedded queue: kombu's file-system transport, with each message written whole before a worker can see it.

kombu's own `_put` creates the message file and then writes it. A worker polling the folder in between takes the
empty file, fails to decode it and stops for good ("Unrecoverable error: JSONDecodeError"): under a few dozen
concurrent POSTs that stopped `herald serve`'s worker within seconds. Here a message is written under a name the
reader skips (it takes only `<name>.<queue>.msg`), then renamed into place, which is atomic on one file system.

Used when HERALD_BROKER_URL is unset (settings `CELERY_BROKER_TRANSPORT`).
"""

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
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".partial"
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
