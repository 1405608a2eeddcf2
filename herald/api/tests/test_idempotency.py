"""`Idempotency-Key` on POST: a retry gets the first response back and nothing is written or sent again."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from herald.api import idempotency
from herald.api.models import IdempotencyKey
from herald.api.v2.endpoints.broadcasts import CANT_CHANGE
from herald.channels.registry import create_channel
from herald.contacts.models import Contact, ContactGroup
from herald.media.models import Media
from herald.media.tests import samples
from herald.msgs import tasks
from herald.msgs.models import Broadcast, Msg
from herald.runtime.celery import app as celery_app
from herald.testing.factories import create_user_token, make_broadcast
from herald.testing.fixtures import token_client
from herald.workspaces.models import Workspace

BROADCASTS = "/api/v2/broadcasts.json"
BODY = {"urns": ["tel:+250788123123"], "text": {"eng": "Hello"}}
REUSED = {"detail": "This Idempotency-Key was already used with a different request."}


def post(client, body, key, url=BROADCASTS):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def upload(client, key, content=samples.JPEG, name="poster.jpg"):
    body, header = samples.multipart(name, content, "image/jpeg")
    return client.post("/api/v2/media.json", data=body, content_type=header, HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_a_retry_gets_the_first_response_and_creates_nothing(admin, workspace):
    first = post(admin, BODY, "order-1")
    again = post(admin, BODY, "order-1")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert again["X-Temba-Workspace"] == str(workspace.uuid)
    assert Broadcast.objects.count() == 1
    assert str(Broadcast.objects.get().uuid) == first.json()["uuid"]


@pytest.mark.django_db
def test_the_same_json_written_differently_is_the_same_request(admin):
    first = admin.post(
        BROADCASTS,
        '{"text": {"eng": "Hello"}, "urns": ["tel:+250788123123"]}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    again = admin.post(
        BROADCASTS,
        '{ "urns" : ["tel:+250788123123"],\n "text": {"eng": "Hello"} }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert Broadcast.objects.count() == 1


@pytest.mark.django_db
def test_without_a_key_every_post_writes(admin):
    assert admin.post(BROADCASTS, BODY, format="json").status_code == 201
    assert admin.post(BROADCASTS, BODY, format="json").status_code == 201
    assert Broadcast.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_a_422_and_writes_nothing(admin):
    post(admin, BODY, "order-1")

    response = post(admin, {**BODY, "text": {"eng": "Hello again"}}, "order-1")
    assert response.status_code == 422
    assert response.json() == REUSED
    assert "Idempotent-Replayed" not in response
    assert Broadcast.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_on_another_endpoint_or_lookup_is_another_request(admin, workspace):
    post(admin, BODY, "k")
    assert post(admin, {"name": "Ann"}, "k", url="/api/v2/contacts.json").json() == REUSED
    assert not Contact.objects.exists()

    contact = post(admin, {"name": "Ann"}, "c", url="/api/v2/contacts.json").json()
    assert post(admin, {"name": "Ann"}, "c", url=f"/api/v2/contacts.json?uuid={contact['uuid']}").status_code == 422


@pytest.mark.django_db
def test_a_refused_request_is_not_remembered_so_it_can_be_fixed_and_retried(admin):
    refused = post(admin, {"urns": ["tel:+250788123123"]}, "order-1")
    assert refused.status_code == 400
    assert refused.json() == {"non_field_errors": ["Must provide either text or attachments."]}
    assert not IdempotencyKey.objects.exists()

    fixed = post(admin, BODY, "order-1")
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed
    assert Broadcast.objects.count() == 1


@pytest.mark.django_db
def test_an_error_raised_during_the_write_is_not_remembered(admin, workspace):
    # `?uuid=` of an existing broadcast raises its 400 from inside the write.
    existing = make_broadcast(workspace)
    response = post(admin, BODY, "k", url=f"{BROADCASTS}?uuid={existing.uuid}")
    assert (response.status_code, response.json()) == (400, {"detail": CANT_CHANGE})
    assert not IdempotencyKey.objects.exists()
    assert post(admin, BODY, "k").status_code == 201


@pytest.mark.django_db
def test_keys_are_per_workspace(admin, workspace, other_workspace, make_client):
    other = make_client(other_workspace)
    mine = post(admin, BODY, "order-1")
    theirs = post(other, BODY, "order-1")

    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert theirs.json()["uuid"] != mine.json()["uuid"]
    assert Broadcast.objects.filter(workspace=workspace).count() == 1
    assert Broadcast.objects.filter(workspace=other_workspace).count() == 1
    # And another body under the same key in the other workspace is no conflict either.
    assert post(other, {**BODY, "text": "Bye"}, "order-2").status_code == 201


@pytest.mark.django_db
def test_keys_expire_after_24_hours(admin, workspace):
    first = post(admin, BODY, "order-1")
    IdempotencyKey.objects.update(created_on=timezone.now() - timedelta(hours=25))

    again = post(admin, BODY, "order-1")
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert again.json()["uuid"] != first.json()["uuid"]
    assert Broadcast.objects.count() == 2
    # The key now stands for the second broadcast.
    assert post(admin, BODY, "order-1").json()["uuid"] == again.json()["uuid"]


@pytest.mark.django_db
def test_a_key_just_under_24_hours_old_still_replays(admin):
    first = post(admin, BODY, "order-1")
    IdempotencyKey.objects.update(created_on=timezone.now() - timedelta(hours=23, minutes=59))
    assert post(admin, BODY, "order-1").content == first.content
    assert Broadcast.objects.count() == 1


@pytest.mark.django_db
def test_the_beat_purges_expired_keys_once_a_minute_on_the_ticks_queue(admin, workspace):
    post(admin, BODY, "old")
    post(admin, {**BODY, "text": "2"}, "new")
    IdempotencyKey.objects.filter(key="old").update(created_on=timezone.now() - timedelta(hours=25))

    celery_app.loader.import_default_modules()  # what a worker does when it starts: find every app's tasks
    entry = celery_app.conf.beat_schedule["purge-idempotency-keys"]
    assert entry["schedule"] == 60
    assert celery_app.amqp.router.route({}, entry["task"])["queue"].name == "ticks"
    assert celery_app.tasks[entry["task"]].apply().get() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]

    tasks.tick()  # the pipeline's tick leaves the API's keys alone
    IdempotencyKey.objects.filter(key="new").update(created_on=timezone.now() - timedelta(hours=25))
    assert IdempotencyKey.objects.count() == 1
    assert idempotency.purge_expired() == 1
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "tab\there"])
def test_a_malformed_key_is_a_400(admin, key):
    response = post(admin, BODY, key)
    assert response.status_code == 400
    assert response.json() == {"detail": "Idempotency-Key must be 1 to 255 printable ASCII characters."}
    assert not Broadcast.objects.exists()


@pytest.mark.django_db
def test_a_255_character_key_is_fine(admin):
    key = "k" * 255
    post(admin, BODY, key)
    assert post(admin, BODY, key)["Idempotent-Replayed"] == "true"
    assert Broadcast.objects.count() == 1


@pytest.mark.django_db
def test_contacts_and_groups_creations_replay(admin):
    contact = post(admin, {"name": "Ann", "urns": ["tel:+250788111111"]}, "c1", url="/api/v2/contacts.json")
    contact_again = post(admin, {"name": "Ann", "urns": ["tel:+250788111111"]}, "c1", url="/api/v2/contacts.json")
    group = post(admin, {"name": "Reporters"}, "g1", url="/api/v2/groups.json")
    group_again = post(admin, {"name": "Reporters"}, "g1", url="/api/v2/groups.json")

    # Without the key the second contact would be refused (URN in use) and the second group too (name taken).
    assert (contact_again.status_code, contact_again.content) == (201, contact.content)
    assert (group_again.status_code, group_again.content) == (201, group.content)
    assert Contact.objects.count() == 1
    assert ContactGroup.objects.count() == 1


@pytest.mark.django_db
def test_a_group_create_that_reached_the_limit_still_replays(admin, monkeypatch):
    monkeypatch.setattr(ContactGroup, "MAX_PER_WORKSPACE", 1)
    first = post(admin, {"name": "Reporters"}, "g1", url="/api/v2/groups.json")
    again = post(admin, {"name": "Reporters"}, "g1", url="/api/v2/groups.json")
    assert first.status_code == 201
    assert again.content == first.content
    assert ContactGroup.objects.count() == 1


@pytest.mark.django_db
def test_an_upload_replays_without_storing_the_file_again(admin, media_root):
    first = upload(admin, "u1")
    again = upload(admin, "u1")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert Media.objects.count() == 1
    assert len([p for p in media_root.rglob("*") if p.is_file()]) == 1


@pytest.mark.django_db
def test_another_file_or_name_under_the_same_key_is_a_422(admin, media_root):
    upload(admin, "u1")
    assert upload(admin, "u1", content=samples.png()).json() == REUSED
    assert upload(admin, "u1", name="other.jpg").json() == REUSED
    assert Media.objects.count() == 1


def test_the_header_is_in_the_docs_and_on_every_post_in_the_openapi_schema(anon):
    assert "Idempotency-Key" in anon.get("/api/v2/").content.decode()

    schema = anon.get("/api/v2/openapi.json").json()
    posts = {path: ops["post"] for path, ops in schema["paths"].items() if "post" in ops}
    assert set(posts) >= {f"/api/v2/{name}.json" for name in ("broadcasts", "contacts", "groups", "media")}
    for operation in posts.values():
        assert "Idempotency-Key" in [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert {"409", "422"} <= set(operation["responses"])
        # Every success may be a replay: 201 for a create, 204 for an action, 200 for a change (schedules.json).
        successes = [answer for code, answer in operation["responses"].items() if code in ("200", "201", "204")]
        assert successes
        assert all("Idempotent-Replayed" in answer["headers"] for answer in successes)


@pytest.mark.django_db(transaction=True)
def test_a_retried_broadcast_is_sent_once(admin, workspace, gateway, eager_tasks):
    create_channel(
        workspace,
        "external",
        "Gateway",
        address="+250788000000",
        schemes=["tel"],
        config={"send_url": f"{gateway.url}/send", "content_type": "json", "send_body": '{"to": {{to}}}'},
    )

    for _ in range(3):
        assert post(admin, BODY, "order-1").status_code == 201

    assert [r.json["to"] for r in gateway.requests] == ["+250788123123"]
    assert Broadcast.objects.count() == 1
    assert Msg.objects.count() == 1


@pytest.fixture
def shared_database(transactional_db, tmp_path):
    """A database where a second writer waits for the first, as in production.

    The in-memory SQLite test database shares one cache between connections, and there a second write transaction
    fails at once ("database table is locked") instead of waiting; so on SQLite this test runs on a migrated file.
    """
    if connection.vendor != "sqlite":
        yield
        return
    database = connections.settings["default"]  # the dict every new connection is opened from
    in_memory, in_memory_name = connections["default"], database["NAME"]
    database["NAME"] = str(tmp_path / "race.sqlite3")
    del connections["default"]
    try:
        call_command("migrate", verbosity=0)
        yield
    finally:
        connections["default"].close()
        database["NAME"] = in_memory_name
        connections["default"] = in_memory


def test_two_racing_requests_with_one_key_make_one_broadcast(shared_database):
    workspace = Workspace.objects.create(name="Racers", languages=["eng"], country="RW")
    _, token = create_user_token(workspace)
    start = threading.Barrier(2)
    responses = []

    def send():
        client = token_client(token)
        try:
            start.wait()
            responses.append(post(client, BODY, "race"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].content == responses[1].content
    assert sorted(r.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
    assert Broadcast.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
