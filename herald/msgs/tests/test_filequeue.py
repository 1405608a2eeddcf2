"""The embedded queue never shows a worker a message that is still being written."""

import os
from queue import Empty

import pytest
from kombu import Connection

from herald import filequeue


@pytest.fixture
def channel(tmp_path):
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with Connection("filesystem://", transport="herald.filequeue:Transport", transport_options=options) as connection:
        yield connection.default_channel


def test_a_message_is_invisible_until_written_whole(channel, monkeypatch):
    seen_while_writing = []
    real_replace = os.replace

    def replace(partial, final):
        assert os.path.getsize(partial) > 0  # written in full under its temporary name ...
        try:
            seen_while_writing.append(channel._get("celery"))
        except Empty:
            pass  # ... where a polling worker doesn't take it
        real_replace(partial, final)

    monkeypatch.setattr(filequeue.os, "replace", replace)
    channel._put("celery", {"body": "start broadcast 1"})

    assert seen_while_writing == []
    assert channel._get("celery") == {"body": "start broadcast 1"}
    with pytest.raises(Empty):
        channel._get("celery")


def test_the_embedded_broker_uses_it(settings):
    from herald.celery import app

    if settings.CELERY_BROKER_URL != "filesystem://":
        pytest.skip("the suite runs with an external broker")
    assert app.connection_for_write().transport_cls == "herald.filequeue:Transport"
