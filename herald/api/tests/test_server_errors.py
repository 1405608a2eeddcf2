"""What goes wrong on the server's side answers JSON, never Django's HTML page: 507 for a full disk, 503 with
Retry-After for an unreachable Redis, 500 for a bug (logged with its traceback). Nothing is stored, and an
Idempotency-Key is not used up by a request that failed.

The faults are real where a test can make them: a database that can't grow (SQLite's `max_page_count`, a PostgreSQL
trigger raising its `disk_full` error), a media folder on a full file system, Redis and PostgreSQL ports where
nothing listens.
"""

import logging
import uuid

import httpx
import pytest
from django.db import connection

from herald.api.errors import INTERNAL_ERROR
from herald.channels.callbacks import callback_urls
from herald.contacts.models import Contact
from herald.media.models import Media
from herald.media.tests import samples
from herald.msgs import reports as delivery_reports
from herald.msgs.models import Broadcast
from herald.msgs.tests.live import Installation
from herald.runtime.tests.full_disk import small_filesystem
from herald.testing.gateway import gateway_channel, unreachable_url

DISK_FULL_PREFIX = "Herald's disk is full: "


def assert_json(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


# A bug anywhere: JSON 500, logged with its traceback


class Bug(Exception):
    pass


def explode(*args, **kwargs):
    raise Bug("a bug deep inside")


def logged_errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request" and r.levelno >= logging.ERROR]


def test_an_unhandled_exception_in_the_api_is_a_json_500_logged_with_its_traceback(admin, monkeypatch, caplog):
    monkeypatch.setattr("herald.api.v2.endpoints.broadcasts.BroadcastWriteSerializer.create", explode)
    body = {"urns": ["tel:+250788123123"], "text": "Hi"}

    response = admin.post("/api/v2/broadcasts.json", body, format="json")

    assert assert_json(response, 500) == {"detail": INTERNAL_ERROR.detail}
    assert "a bug deep inside" not in response.content.decode()  # the log has it, not the client
    (record,) = logged_errors(caplog)
    assert record.getMessage() == "Internal Server Error: /api/v2/broadcasts.json"
    assert isinstance(record.exc_info[1], Bug)  # the traceback goes to the log
    assert not Broadcast.objects.exists()


def test_a_failed_request_does_not_use_up_its_idempotency_key(admin, monkeypatch):
    body = {"urns": ["tel:+250788123123"], "text": "Hi"}
    with monkeypatch.context() as patched:
        patched.setattr("herald.api.v2.endpoints.broadcasts.BroadcastWriteSerializer.create", explode)
        assert_json(admin.post("/api/v2/broadcasts.json", body, format="json", HTTP_IDEMPOTENCY_KEY="k1"), 500)

    retried = admin.post("/api/v2/broadcasts.json", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert assert_json(retried, 201)["uuid"]
    assert "Idempotent-Replayed" not in retried  # the 500 was not remembered: this did the work
    assert Broadcast.objects.count() == 1


def test_an_unhandled_exception_in_a_delivery_report_is_a_json_500(workspace, anon, monkeypatch, caplog):
    channel = gateway_channel(workspace, unreachable_url())
    monkeypatch.setattr(delivery_reports, "apply_report", explode)

    response = anon.post(f"{callback_urls(channel)['delivered']}?id={uuid.uuid4()}")

    assert assert_json(response, 500) == {"detail": INTERNAL_ERROR.detail}
    assert isinstance(logged_errors(caplog)[0].exc_info[1], Bug)


# A database that can't grow: 507, nothing stored


@pytest.fixture
def full_database(transactional_db):
    """From now on the database refuses to grow, with its engine's own disk-full error.

    Without a test transaction around: each request is its own outermost transaction, as in production, so whichever
    statement finds the disk full (SQLite may then roll back the whole transaction, not just the statement) can't
    break the test's."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # Free pages that earlier tests' deletions left would let it grow for a long while yet: none are kept.
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA page_count")
            (pages,) = cursor.fetchone()
            (limit,) = cursor.execute("PRAGMA max_page_count").fetchone()
            cursor.execute(f"PRAGMA max_page_count = {pages}")  # SQLite: "database or disk is full"
        yield
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA max_page_count = {limit}")
    else:
        # PostgreSQL's own error, SQLSTATE 53100, raised by the server inside the test's transaction.
        with connection.cursor() as cursor:
            cursor.execute(
                """
                CREATE FUNCTION herald_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                    RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
                END $$;
                CREATE TRIGGER herald_test_disk_full BEFORE INSERT ON contacts_contact
                    FOR EACH ROW EXECUTE FUNCTION herald_test_disk_full();
                """
            )
        yield
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER herald_test_disk_full ON contacts_contact; DROP FUNCTION herald_test_disk_full();"
            )


def post_contacts_until_refused(client, key_prefix: str = "") -> tuple[int, object]:
    """POST new contacts until one is refused (SQLite's pages may have room for a few more): (created, refusal)."""
    for n in range(500):
        headers = {"HTTP_IDEMPOTENCY_KEY": f"{key_prefix}{n}"} if key_prefix else {}
        body = {"name": f"Contact {n} " + "x" * 40, "urns": [f"tel:+25078{n:07d}"]}
        response = client.post("/api/v2/contacts.json", body, format="json", **headers)
        if response.status_code != 201:
            return n, response
    pytest.fail("the database never filled up")


@pytest.mark.parametrize("key_prefix", ["", "key-"], ids=["no key", "idempotency key"])
def test_a_full_database_is_a_json_507_and_stores_nothing(admin, workspace, full_database, key_prefix):
    created, refused = post_contacts_until_refused(admin, key_prefix)

    detail = assert_json(refused, 507)["detail"]
    assert detail.startswith(DISK_FULL_PREFIX), detail
    assert Contact.objects.filter(workspace=workspace).count() == created  # the refused one left nothing


# A full media folder: 507, no row, no file


def test_an_upload_to_a_full_disk_is_a_json_507_and_leaves_no_file(admin, settings, tmp_path):
    with small_filesystem(tmp_path / "small-media", size="1m") as disk:
        settings.MEDIA_ROOT = disk.path
        disk.fill()
        body, content_type = samples.multipart("photo.jpg", samples.JPEG, "image/jpeg")

        response = admin.post("/api/v2/media.json", data=body, content_type=content_type)

        assert assert_json(response, 507) == {
            "detail": DISK_FULL_PREFIX + "No space left on device. Nothing was stored; retry once space is freed."
        }
        assert not Media.objects.exists()
        assert disk.files() == []

        disk.free()
        assert assert_json(admin.post("/api/v2/media.json", data=body, content_type=content_type), 201)


# Redis out of reach: 503 with Retry-After


def test_an_unreachable_redis_is_a_json_503_with_retry_after(admin, settings):
    # The API's rate limits live in the shared cache: with Redis configured, every request needs it.
    closed_port = unreachable_url().rsplit(":", 1)[1].split("/")[0]
    unreachable = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{closed_port}/8",
    }
    settings.CACHES = {"default": unreachable, "shared": unreachable}

    response = admin.get("/api/v2/workspace.json")

    assert assert_json(response, 503) == {"detail": "Herald's Redis is unreachable; retry later."}
    assert response["Retry-After"] == "30"


# PostgreSQL out of reach: 503 with Retry-After (a real `herald web` whose database URL is a closed loopback port)


def test_an_unreachable_database_is_a_json_503_with_retry_after(tmp_path, django_db_blocker):
    closed_port = unreachable_url().rsplit(":", 1)[1]
    with django_db_blocker.unblock(), Installation(tmp_path) as herald:
        herald.start("web", HERALD_DATABASE_URL=f"postgres://herald:secret@127.0.0.1:{closed_port}/herald")
        response = httpx.get(f"{herald.base_url}/api/v2/workspace.json", headers={"Authorization": "Token x"})

    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Herald's database is unreachable; retry later."}
    assert response.headers["Retry-After"] == "30"
