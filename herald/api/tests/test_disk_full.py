"""Herald on a full disk: a real `herald web` whose data dir (SQLite database, queue folder, media) is a small file
system filled to the last byte. Every answer is a JSON 507 naming the problem, nothing is stored or left half-written,
and once there is room again the same requests succeed.

Embedded configuration only: PostgreSQL's disk is the shared server's (test_server_errors.py covers its
`disk_full` error). Skipped where this machine refuses to mount a file system.
"""

import httpx
import pytest
from django.db import connections

from herald.contacts.models import Contact
from herald.media.models import Media
from herald.media.tests import samples
from herald.msgs.models import Broadcast
from herald.msgs.tests.live import Installation, backend_name
from herald.runtime.tests.full_disk import small_filesystem

pytestmark = pytest.mark.skipif(backend_name() != "embedded", reason="the database is PostgreSQL: its disk is shared")

DISK_FULL = "Herald's disk is full: "


@pytest.fixture
def on_small_disk(tmp_path, django_db_blocker):
    """(an installation, the small file system holding its data dir)"""
    with django_db_blocker.unblock():
        installation = Installation(tmp_path)
        with small_filesystem(installation.data_dir, size="32m") as disk, installation:
            yield installation, disk


def writes(herald: Installation, group: str) -> dict:
    """One request of each kind that writes: name → function returning its response."""
    auth = {"Authorization": f"Token {herald.token}"}
    upload, content_type = samples.multipart("photo.jpg", samples.JPEG, "image/jpeg")
    return {
        "contact": lambda: herald.api_post("/api/v2/contacts.json", {"name": "Ann", "urns": ["tel:+250788000001"]}),
        "broadcast": lambda: herald.api_post("/api/v2/broadcasts.json", {"text": "Hi", "groups": [group]}),
        "keyed contact": lambda: herald.api_post(
            "/api/v2/contacts.json", {"name": "Bob"}, headers={"Idempotency-Key": "bob"}
        ),
        "media": lambda: httpx.post(
            f"{herald.base_url}/api/v2/media.json",
            content=upload,
            headers={**auth, "Content-Type": content_type},
            timeout=30,
        ),
    }


def stored(herald: Installation) -> tuple[int, int, int]:
    db = herald.db
    return Contact.objects.using(db).count(), Broadcast.objects.using(db).count(), Media.objects.using(db).count()


def test_a_full_disk_is_a_json_507_for_every_request_and_nothing_is_half_written(on_small_disk):
    herald, disk = on_small_disk
    setup = herald.provision("http://127.0.0.1:9/", contacts=2)  # (the gateway is never reached: no worker runs)
    herald.start("web")
    before = stored(herald)
    calls = writes(herald, setup["group"])

    # As in an idle Herald, nobody holds the database open: opening it needs room too (SQLite's WAL files).
    connections[herald.db].close()
    disk.fill()
    for name, call in calls.items():
        response = call()
        assert response.status_code == 507, (name, response.text)
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["detail"].startswith(DISK_FULL), (name, response.text)
    listed = httpx.get(f"{herald.base_url}/api/v2/contacts.json", headers={"Authorization": f"Token {herald.token}"})
    assert listed.status_code == 507
    assert listed.json()["detail"].startswith(DISK_FULL)
    disk.free()

    assert stored(herald) == before
    leftovers = [p for p in disk.files() if p.name.endswith(".partial") or p.relative_to(disk.path).parts[0] == "media"]
    assert leftovers == []
    # The refused keyed request was not remembered: with room again, it does the work.
    for name, call in calls.items():
        response = call()
        assert response.status_code in (200, 201), (name, response.text)
        assert "Idempotent-Replayed" not in response.headers
    assert stored(herald) == (before[0] + 2, before[1] + 1, before[2] + 1)
