"""The embedded queue never shows a worker a message that is still being written, and a full disk leaves nothing
half-written in its folder."""

import contextlib
import errno
import os
import threading
from queue import Empty

import pytest
from kombu import Connection
from kombu.exceptions import ChannelError
from kombu.simple import SimpleQueue

from herald.runtime import filequeue
from herald.runtime.celery import app
from herald.runtime.tests.full_disk import small_filesystem


@pytest.fixture
def channel(tmp_path):
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with Connection(
        "filesystem://", transport="herald.runtime.filequeue:Transport", transport_options=options
    ) as connection:
        yield connection.default_channel


def test_a_message_is_invisible_until_written_whole(channel, monkeypatch):
    seen_while_writing = []
    real_replace = os.replace

    def replace(partial, final):
        assert os.path.getsize(partial) > 0  # written in full under its temporary name ...
        with contextlib.suppress(Empty):  # ... where a polling worker doesn't take it
            seen_while_writing.append(channel._get("celery"))
        real_replace(partial, final)

    monkeypatch.setattr(filequeue.os, "replace", replace)
    channel._put("celery", {"body": "start broadcast 1"})

    assert seen_while_writing == []
    assert channel._get("celery") == {"body": "start broadcast 1"}
    with pytest.raises(Empty):
        channel._get("celery")


def test_the_embedded_broker_uses_it(settings):
    if settings.CELERY_BROKER_URL != "filesystem://":
        pytest.skip("the suite runs with an external broker")
    assert app.connection_for_write().transport_cls == "herald.runtime.filequeue:Transport"


@pytest.fixture
def full_queue_folder(tmp_path):
    with small_filesystem(tmp_path / "queue", size="1m") as disk:
        yield disk


def connect(folder):
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "control_folder": str(folder / "control")}
    return Connection("filesystem://", transport="herald.runtime.filequeue:Transport", transport_options=options)


def disk_full_cause(exc: BaseException) -> OSError:
    cause = exc.__cause__
    assert isinstance(cause, OSError), repr(cause)
    assert cause.errno == errno.ENOSPC, repr(cause)
    return cause


def test_a_full_disk_is_reported_as_such_and_leaves_no_partial_file(full_queue_folder):
    with connect(full_queue_folder.path) as connection:
        # Declared and bound while there is room, as in a running Herald. A queue name of its own: kombu remembers
        # bindings per process (and other tests bound "celery" in other folders).
        queue = SimpleQueue(connection, "bound-before-full")
        full_queue_folder.fill()
        with pytest.raises(ChannelError) as refused:
            queue.put({"body": "start broadcast 1"})

        # Said at once (no reconnect-and-retry that hid it), with the OSError underneath; nothing left behind.
        assert "No space left on device" in str(refused.value)
        disk_full_cause(refused.value)
        assert [p.name for p in full_queue_folder.files()] == ["bound-before-full.exchange"]

        full_queue_folder.free()
        queue.put({"body": "start broadcast 2"})
        assert queue.get(timeout=1).payload == {"body": "start broadcast 2"}


def test_a_queue_first_bound_on_a_full_disk_works_once_there_is_room(full_queue_folder):
    # A queue name of its own: kombu remembers bindings per process, and this one must be new.
    full_queue_folder.fill()
    with connect(full_queue_folder.path) as connection, pytest.raises(ChannelError) as refused:
        SimpleQueue(connection, "first-bound-when-full")  # declaring it writes the exchange's table
    disk_full_cause(refused.value)
    assert full_queue_folder.files() == []  # not even the empty exchange table that no later bind could read

    full_queue_folder.free()
    with connect(full_queue_folder.path) as connection:
        queue = SimpleQueue(connection, "first-bound-when-full")
        queue.put({"body": "start broadcast 1"})
        assert queue.get(timeout=1).payload == {"body": "start broadcast 1"}


def test_a_put_wakes_a_waiting_worker_at_once_rather_than_at_its_next_poll(tmp_path):
    if not filequeue._CAN_WAKE:
        pytest.skip("wake-ups need Linux's abstract sockets; elsewhere the worker polls")
    waker = filequeue.Waker(str(tmp_path))
    waiting = threading.Thread(target=waker.wait, args=(600,))  # a polling interval far past the test's patience
    waiting.start()
    try:
        with connect(tmp_path) as connection:
            SimpleQueue(connection, "wake-test").put({"body": "start broadcast 1"})
        waiting.join(timeout=30)
        assert not waiting.is_alive()
    finally:
        waker.close()
    assert os.listdir(tmp_path / filequeue.WAKE_FOLDER) == []


def test_a_worker_drains_what_is_put_and_a_dead_listener_is_forgotten(tmp_path):
    if not filequeue._CAN_WAKE:
        pytest.skip("wake-ups need Linux's abstract sockets; elsewhere the worker polls")
    (tmp_path / filequeue.WAKE_FOLDER).mkdir()
    (tmp_path / filequeue.WAKE_FOLDER / "gone").touch()  # a listener whose process died

    with connect(tmp_path) as writer, connect(tmp_path) as reader:
        queue = SimpleQueue(reader, "drained")
        SimpleQueue(writer, "drained").put({"body": "deliver channel 7"})
        assert queue.get(timeout=30).payload == {"body": "deliver channel 7"}

    assert "gone" not in os.listdir(tmp_path / filequeue.WAKE_FOLDER)
