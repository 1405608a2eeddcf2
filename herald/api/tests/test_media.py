"""POST /api/v2/media.json: uploads, their checks, where they are kept and the URL they are served at."""

import importlib
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile

from herald.api.v2.base import BLOCKER_FLAGGED, BLOCKER_SUSPENDED
from herald.api.v2.endpoints import media as media_endpoint
from herald.channels.base import attachment_urls
from herald.media import storage
from herald.media.models import Media
from herald.media.tests import samples
from herald.testing.factories import make_contact, make_media, make_msg
from herald.workspaces.models import Workspace

URL = "/api/v2/media.json"
UNSUPPORTED = {"file": ["Unsupported file type."]}


def upload(client, name: str, content: bytes, content_type: str | None):
    """POST one `file` part with this exact name and declared type."""
    body, header = samples.multipart(name, content, content_type)
    return client.post(URL, data=body, content_type=header)


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_upload_returns_201_with_the_reference_shape_and_keeps_the_file(admin, workspace, media_root):
    content = samples.JPEG
    response = upload(admin, "steve marten.jpg", content, "image/jpeg")

    assert response.status_code == 201
    body = response.json()
    media_uuid = body["uuid"]
    assert body == {
        "uuid": media_uuid,
        "content_type": "image/jpeg",
        "url": f"http://testserver/media/{media_uuid}/steve%20marten.jpg",
        "filename": "steve marten.jpg",
        "size": len(content),
    }
    media = Media.objects.get(uuid=media_uuid)
    assert media.workspace == workspace
    assert media.created_by.email == f"admin-{workspace.pk}@example.com"
    assert media.attachment == f"image/jpeg:{body['url']}"
    path = media_root / str(workspace.uuid) / media_uuid[:4] / media_uuid / "steve marten.jpg"
    assert media.path == str(path.relative_to(media_root))
    assert path.read_bytes() == content
    assert response["X-Temba-Workspace"] == str(workspace.uuid)


def test_uploaded_file_is_served_at_its_url(admin):
    body = upload(admin, "poster (final) [v2].png", samples.png(), "image/png").json()
    assert body["filename"] == "poster (final) [v2].png"

    served = admin.get(urlsplit(body["url"]).path)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == samples.png()


def test_url_uses_base_url_when_configured(admin, settings):
    settings.BASE_URL = "https://herald.example.com"
    body = upload(admin, "a.pdf", samples.PDF, "application/pdf").json()
    assert body["url"] == f"https://herald.example.com/media/{body['uuid']}/a.pdf"


@pytest.mark.parametrize("role", ["admin", "editor"])
def test_every_role_with_a_token_may_upload(workspace, make_client, role):
    assert upload(make_client(workspace, role), "a.gif", samples.GIF, "image/gif").status_code == 201


def test_anonymous_upload_is_403(anon):
    response = upload(anon, "a.gif", samples.GIF, "image/gif")
    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize("method", ["get", "put", "patch"])
def test_only_post_and_delete_are_allowed(admin, method):
    response = getattr(admin, method)(URL)
    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}


def test_json_body_is_415(admin):
    response = admin.post(URL, {"file": "x"}, format="json")
    assert response.status_code == 415
    assert response.json() == {"detail": 'Unsupported media type "application/json" in request.'}


def test_no_file_is_400(admin):
    response = admin.post(URL, {}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"file": ["No file was submitted."]}


def test_empty_file_is_400(admin):
    response = upload(admin, "empty.png", b"", "image/png")
    assert response.status_code == 400
    assert response.json() == {"file": ["The submitted file is empty."]}


def test_urlencoded_value_that_is_not_a_file_is_400(admin):
    response = admin.post(URL, "file=hello", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json() == {"file": ["The submitted data was not a file. Check the encoding type on the form."]}


@pytest.mark.parametrize(
    "content_type",
    ["text/html", "image/svg+xml", "image/bmp", "image/jpg", "image/png+evil", "application/zip", "", None],
)
def test_types_outside_the_allowed_list_are_refused(admin, media_root, content_type):
    response = upload(admin, "x.png", samples.png(), content_type)
    assert response.status_code == 400
    assert response.json() == UNSUPPORTED
    assert not Media.objects.exists()
    assert not files_under(media_root)


# docs/COMPATIBILITY.md, C17.
@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        pytest.param(samples.HTML, "image/png", id="web page dressed as an image"),
        pytest.param(samples.JPEG, "image/png", id="jpeg declared png"),
        pytest.param(samples.png(), "image/gif", id="png declared gif"),
        pytest.param(samples.PDF, "video/mp4", id="pdf declared video"),
        pytest.param(samples.png(), "application/pdf", id="png declared pdf"),
        pytest.param(samples.HTML, "audio/mpeg", id="web page declared audio"),
        pytest.param(b"just some text", "audio/ogg", id="text declared audio"),
    ],
)
def test_bytes_that_contradict_the_declared_type_are_refused(admin, media_root, content, content_type):
    response = upload(admin, "x", content, content_type)
    assert response.status_code == 400
    assert response.json() == UNSUPPORTED
    assert not Media.objects.exists()
    assert not files_under(media_root)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        pytest.param(samples.png(), "image/apng", id="a still png is a one-frame apng"),
        pytest.param(samples.MP4, "audio/mp4", id="video container declared audio"),
        pytest.param(samples.M4A, "video/mp4", id="audio container declared video"),
        pytest.param(samples.MP3, "audio/mpeg", id="mp3"),
        pytest.param(samples.PDF, "application/pdf", id="pdf"),
    ],
)
def test_bytes_of_the_declared_kind_are_accepted(admin, content, content_type):
    response = upload(admin, "x", content, content_type)
    assert response.status_code == 201
    assert response.json()["content_type"] == content_type


def test_rapidpros_size_message_for_the_default_limit(admin, settings, media_root):
    assert settings.MEDIA_MAX_UPLOAD_BYTES == 25 * 1024 * 1024
    too_big = samples.MP4 + b"\x00" * settings.MEDIA_MAX_UPLOAD_BYTES
    response = upload(admin, "big.mp4", too_big, "video/mp4")
    assert response.status_code == 400
    assert response.json() == {"file": ["Limit for file uploads is 25.0 MB."]}
    assert not files_under(media_root)


def test_size_limit_follows_settings_and_is_inclusive(admin, settings):
    settings.MEDIA_MAX_UPLOAD_BYTES = 1024
    at_limit = samples.MP4 + b"\x00" * (1024 - len(samples.MP4))
    assert upload(admin, "ok.mp4", at_limit, "video/mp4").status_code == 201

    response = upload(admin, "big.mp4", at_limit + b"\x00", "video/mp4")
    assert response.status_code == 400
    assert response.json() == {"file": ["Limit for file uploads is 0.0009765625 MB."]}


def test_body_far_over_the_limit_is_refused_before_it_is_parsed(admin, settings, monkeypatch):
    settings.MEDIA_MAX_UPLOAD_BYTES = 1024

    def must_not_validate(*args):
        raise AssertionError("the body should have been refused by its length")

    monkeypatch.setattr(media_endpoint.MediaWriteSerializer, "validate_file", must_not_validate)
    big = samples.MP4 + b"\x00" * (1024 + media_endpoint.MULTIPART_OVERHEAD_BYTES)
    response = upload(admin, "big.mp4", big, "video/mp4")
    assert response.status_code == 400
    assert response.json() == {"file": ["Limit for file uploads is 0.0009765625 MB."]}


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("../../etc/passwd", "image/png", "passwd.png"),
        ("..\\..\\windows\\win.ini", "image/png", "win.png"),
        ("C:\\Users\\me\\cat.png", "image/png", "cat.png"),
        ("pa\x00ss\x01wd.png", "image/png", "passwd.png"),
        ("<b>alert(1)<b>.png", "image/png", "balert(1)b.png"),
        ("%00;$(rm -rf).png", "image/png", "00(rm -rf).png"),
        ("☃☃☃.png", "image/png", "file.png"),
        ("Ünïcödé 名前 ملف.png", "image/png", "Ünïcödé 名前 ملف.png"),
        ("  spaced  .png", "image/png", "spaced.png"),
        ("photo.exe", "image/png", "photo.png"),
        ("photo.html", "image/png", "photo.png"),
        ("photo.JPG", "image/jpeg", "photo.JPG"),
        ("photo.jpeg", "image/jpeg", "photo.jpeg"),
        ("report", "application/pdf", "report.pdf"),
        ("clip", "audio/x-unknown", "clip.bin"),
    ],
)
def test_hostile_and_odd_filenames_are_cleaned(admin, media_root, name, content_type, expected):
    content = {"image/jpeg": samples.JPEG, "application/pdf": samples.PDF, "audio/x-unknown": samples.MP3}.get(
        content_type, samples.png()
    )
    response = upload(admin, name, content, content_type)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["filename"] == expected
    (written,) = files_under(media_root)
    assert written.name == expected
    assert written.resolve().is_relative_to(media_root.resolve() / str(Media.objects.get().workspace.uuid))
    # The URL, percent-encoded, leads back to the same bytes.
    served = admin.get(urlsplit(body["url"]).path)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == content


@pytest.mark.parametrize("base", ["a" * 900, "é" * 300, "名" * 200])
def test_very_long_names_fit_the_file_system(admin, media_root, base):
    response = upload(admin, base + ".png", samples.png(), "image/png")
    assert response.status_code == 201
    filename = response.json()["filename"]
    assert filename.endswith(".png")
    assert filename.startswith(base[:10])
    assert len(filename.encode()) <= 255
    (written,) = files_under(media_root)
    assert written.name == filename


def test_name_longer_than_the_part_headers_allow_is_a_clear_400(admin):
    response = upload(admin, "a" * 2000 + ".png", samples.png(), "image/png")
    assert response.status_code == 400
    assert response.json() == {"detail": "Multipart form parse error - Request max total header size exceeded."}


@pytest.mark.parametrize("name", ["..", "."])
def test_names_that_are_only_directories_count_as_no_file(admin, name):
    response = upload(admin, name, samples.png(), "image/png")
    assert response.status_code == 400
    assert response.json() == {"file": ["No file was submitted."]}


@pytest.mark.parametrize("declared", ["audio/x-m4a", "audio/m4a", "video/mp4", "audio/mp4"])
def test_m4a_is_always_audio_mp4(admin, declared):
    response = upload(admin, "voice note.m4a", samples.M4A, declared)
    assert response.status_code == 201
    body = response.json()
    assert (body["content_type"], body["filename"]) == ("audio/mp4", "voice note.m4a")
    assert Media.objects.get().content_type == "audio/mp4"


def test_form_built_by_the_test_client_works_too(admin):
    response = admin.post(
        URL, {"file": SimpleUploadedFile("hi.gif", samples.GIF, content_type="image/gif")}, format="multipart"
    )
    assert response.status_code == 201
    assert response.json()["filename"] == "hi.gif"


@pytest.mark.parametrize(("flag", "message"), [("is_flagged", BLOCKER_FLAGGED), ("is_suspended", BLOCKER_SUSPENDED)])
def test_blocked_workspace_cannot_upload(admin, workspace, media_root, flag, message):
    setattr(workspace, flag, True)
    workspace.save()
    response = upload(admin, "a.gif", samples.GIF, "image/gif")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [message]}
    assert not Media.objects.exists()
    assert not files_under(media_root)


def test_upload_belongs_to_the_tokens_workspace(workspace, other_workspace, make_client, media_root):
    body = upload(make_client(other_workspace), "a.gif", samples.GIF, "image/gif").json()
    assert Media.objects.get(uuid=body["uuid"]).workspace == other_workspace
    assert (media_root / str(other_workspace.uuid)).is_dir()
    assert not (media_root / str(workspace.uuid)).exists()


def test_no_row_without_its_file(admin, media_root, monkeypatch):
    def failing_write(upload, media):
        raise OSError("disk full")

    monkeypatch.setattr(storage, "_write", failing_write)
    assert upload(admin, "a.gif", samples.GIF, "image/gif").status_code == 500
    assert not Media.objects.exists()


def test_no_file_without_its_row_when_the_transaction_fails_late(admin, media_root, monkeypatch):
    create = media_endpoint.MediaWriteSerializer.create

    def create_then_fail(self, validated_data):
        media = create(self, validated_data)
        assert (media_root / media.path).is_file()
        raise RuntimeError("the surrounding transaction fails after the file was written")

    monkeypatch.setattr(media_endpoint.MediaWriteSerializer, "create", create_then_fail)
    assert upload(admin, "a.gif", samples.GIF, "image/gif").status_code == 500
    assert not Media.objects.exists()
    assert not files_under(media_root)


def test_each_upload_gets_its_own_uuid_and_directory(admin, media_root):
    first = upload(admin, "same.gif", samples.GIF, "image/gif").json()
    second = upload(admin, "same.gif", samples.GIF, "image/gif").json()
    assert first["uuid"] != second["uuid"]
    assert uuid.UUID(first["uuid"]).version == 4
    assert len(files_under(media_root)) == 2


def test_openapi_describes_the_upload_and_the_delete(anon):
    operations = anon.get("/api/v2/openapi.json").json()["paths"]["/api/v2/media.json"]
    assert set(operations) == {"post", "delete"}
    post = operations["post"]
    form = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert "application/json" not in post["requestBody"]["content"]
    assert {"201", "400", "413", "415"} <= set(post["responses"])
    created = post["responses"]["201"]["content"]["application/json"]["schema"]
    assert form
    assert created
    delete = operations["delete"]
    assert [p["name"] for p in delete["parameters"]] == ["uuid"]
    assert {"204", "400", "403", "404"} <= set(delete["responses"])


# F6: only a bare, well-formed `type/subtype` is ever stored, served or put into an attachment string.


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("audio/mpeg,text/html", id="a second type a browser would take"),
        pytest.param("audio/x:https://evil.example/a.mp3#", id="a colon that rewrites the attachment url"),
        pytest.param("audio/mpeg text/html", id="a space"),
        pytest.param("audio/mpeg/x", id="a second slash"),
        pytest.param("audio/", id="no subtype"),
        pytest.param("/mpeg", id="no type"),
        pytest.param("audio/*", id="a wildcard"),
        pytest.param("audio/.mpeg", id="subtype not starting with a letter or digit"),
        pytest.param("audio/mpég", id="not ascii"),
        pytest.param("audio/" + "a" * 128, id="subtype longer than 127"),
        pytest.param('audio/"mpeg"', id="quotes"),
        pytest.param("audio/@contact.urn", id="an expression when the attachment is rendered"),
    ],
)
def test_content_types_that_are_not_a_bare_type_and_subtype_are_refused(admin, media_root, content_type):
    response = upload(admin, "x.mp3", samples.MP3, content_type)
    assert response.status_code == 400
    assert response.json() == UNSUPPORTED
    assert not Media.objects.exists()
    assert not files_under(media_root)


def test_parameters_are_dropped_and_the_type_is_lowercase_everywhere_it_is_used(admin, workspace):
    body = upload(admin, "song.mp3", samples.MP3, 'Audio/MPEG; charset=binary; x="a:b,c"').json()
    assert body["content_type"] == "audio/mpeg"
    assert Media.objects.get(uuid=body["uuid"]).content_type == "audio/mpeg"
    # Served with it ...
    assert admin.get(urlsplit(body["url"]).path)["Content-Type"] == "audio/mpeg"
    # ... and attached as `type:url` with it, in the broadcast and in what a gateway is handed.
    contact = make_contact(workspace, "Ann", ["tel:+250788111111"])
    sent = admin.post(
        "/api/v2/broadcasts.json", {"contacts": [str(contact.uuid)], "attachments": [body["uuid"]]}, format="json"
    )
    assert sent.status_code == 201, sent.content
    assert sent.json()["attachments"] == {"eng": [f"audio/mpeg:{body['url']}"]}
    msg = make_msg(contact, "", attachments=sent.json()["attachments"]["eng"])
    assert attachment_urls(msg) == [body["url"]]


def test_stored_types_from_before_the_check_are_repaired(workspace):
    kept = make_media(workspace, content_type="audio/mpeg")
    forged = make_media(workspace, content_type="audio/x:https://evil.example/a.mp3#")
    listed = make_media(workspace, content_type="audio/mpeg,text/html")
    shouting = make_media(workspace, content_type="Image/JPEG")

    repair = importlib.import_module("herald.media.migrations.0002_bare_content_types").repair_content_types
    repair(django_apps, None)

    def stored(media):
        return Media.objects.get(pk=media.pk).content_type

    assert stored(kept) == "audio/mpeg"
    assert stored(forged) == stored(listed) == "application/octet-stream"
    assert stored(shouting) == "image/jpeg"


# F18: a per-workspace storage quota, and DELETE to make room.


def test_upload_beyond_the_quota_is_413_naming_the_limit_and_the_usage(admin, settings, media_root):
    settings.MEDIA_QUOTA_BYTES = 2 * len(samples.MP3) + 10
    for _ in range(2):
        assert upload(admin, "a.mp3", samples.MP3, "audio/mpeg").status_code == 201

    response = upload(admin, "a.mp3", samples.MP3, "audio/mpeg")
    assert response.status_code == 413
    used, limit, size = 2 * len(samples.MP3), settings.MEDIA_QUOTA_BYTES, len(samples.MP3)
    detail = response.json()["detail"]
    assert detail.startswith(
        f"Media storage quota exceeded: this workspace stores {used:,} bytes of uploads, its limit is {limit:,} "
        f"bytes (0.0 MB) and this file has {size:,} bytes."
    )
    assert "DELETE /api/v2/media.json?uuid=" in detail
    assert Media.objects.count() == 2
    assert len(files_under(media_root)) == 2


def test_the_quota_is_inclusive(admin, settings):
    settings.MEDIA_QUOTA_BYTES = len(samples.GIF)
    assert upload(admin, "a.gif", samples.GIF, "image/gif").status_code == 201
    assert upload(admin, "a.gif", samples.GIF, "image/gif").status_code == 413


def test_a_full_workspace_does_not_stop_another(admin, settings, other_workspace, make_client):
    settings.MEDIA_QUOTA_BYTES = len(samples.GIF)
    assert upload(admin, "a.gif", samples.GIF, "image/gif").status_code == 201
    assert upload(admin, "a.gif", samples.GIF, "image/gif").status_code == 413
    assert upload(make_client(other_workspace), "a.gif", samples.GIF, "image/gif").status_code == 201


@pytest.mark.parametrize(
    ("override", "setting", "fits"),
    [
        pytest.param(None, 50, False, id="no override: the setting"),
        pytest.param(10_000, 50, True, id="a larger override"),
        pytest.param(50, 10_000, False, id="a smaller override"),
        pytest.param(0, 50, True, id="0 is no limit"),
        pytest.param(None, 0, True, id="setting 0 is no limit"),
    ],
)
def test_a_workspace_override_wins_over_the_setting(admin, workspace, settings, override, setting, fits):
    settings.MEDIA_QUOTA_BYTES = setting
    Workspace.objects.filter(pk=workspace.pk).update(media_quota_bytes=override)
    response = upload(admin, "a.mp3", samples.MP3, "audio/mpeg")  # more than 50 bytes
    assert response.status_code == (201 if fits else 413)


def test_the_quota_is_checked_again_when_the_row_is_saved(admin, workspace, settings, media_root, monkeypatch):
    """Another upload commits between this one's early check and its save: the check under the lock refuses it,
    and leaves neither its row nor its file."""
    settings.MEDIA_QUOTA_BYTES = len(samples.GIF)
    store = storage.store_upload

    def another_upload_commits_first(**kwargs):
        make_media(workspace)
        return store(**kwargs)

    monkeypatch.setattr(storage, "store_upload", another_upload_commits_first)
    response = upload(admin, "a.gif", samples.GIF, "image/gif")
    assert response.status_code == 413
    assert not Media.objects.filter(filename="a.gif").exists()
    assert not files_under(media_root)


@pytest.mark.parametrize("role", ["admin", "editor"])
def test_delete_removes_the_upload_and_its_file_and_frees_the_quota(
    workspace, make_client, settings, media_root, role, django_capture_on_commit_callbacks
):
    client = make_client(workspace, role)
    settings.MEDIA_QUOTA_BYTES = len(samples.GIF)
    body = upload(client, "a.gif", samples.GIF, "image/gif").json()
    file = media_root / Media.objects.get(uuid=body["uuid"]).path
    assert file.is_file()
    assert upload(client, "b.gif", samples.GIF, "image/gif").status_code == 413

    # The file goes once the row's deletion commits (the test's own transaction never does).
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"{URL}?uuid={body['uuid']}")

    assert response.status_code == 204
    assert not Media.objects.filter(uuid=body["uuid"]).exists()
    assert not file.parent.exists()
    assert client.get(urlsplit(body["url"]).path).status_code == 404
    assert upload(client, "b.gif", samples.GIF, "image/gif").status_code == 201
    assert client.delete(f"{URL}?uuid={body['uuid']}").status_code == 404


def test_messages_and_broadcasts_keep_their_text_and_attachment_after_a_delete(admin, workspace):
    body = upload(admin, "a.gif", samples.GIF, "image/gif").json()
    contact = make_contact(workspace, "Ann", ["tel:+250788111111"])
    sent = admin.post(
        "/api/v2/broadcasts.json",
        {"contacts": [str(contact.uuid)], "text": "Our poster", "attachments": [body["uuid"]]},
        format="json",
    ).json()
    msg = make_msg(contact, "Our poster", broadcast_id=sent["id"], attachments=sent["attachments"]["eng"])

    assert admin.delete(f"{URL}?uuid={body['uuid']}").status_code == 204

    broadcast = admin.get("/api/v2/broadcasts.json", {"id": sent["id"]}).json()["results"][0]
    assert (broadcast["text"], broadcast["attachments"]) == (sent["text"], sent["attachments"])
    message = admin.get("/api/v2/messages.json", {"id": msg.id}).json()["results"][0]
    assert message["text"] == "Our poster"
    assert message["attachments"] == [{"content_type": "image/gif", "url": body["url"]}]


def test_an_agents_token_may_neither_upload_nor_delete(workspace, make_client, admin, media_root):
    # Agents' tokens are refused (APIToken.ALLOWED_ROLES, as RapidPro's): see test_auth.py.
    agent = make_client(workspace, "agent")
    denied = {"detail": "You do not have permission to perform this action."}
    response = upload(agent, "b.gif", samples.GIF, "image/gif")
    assert (response.status_code, response.json()) == (403, denied)
    body = upload(admin, "a.gif", samples.GIF, "image/gif").json()
    response = agent.delete(f"{URL}?uuid={body['uuid']}")
    assert (response.status_code, response.json()) == (403, denied)
    assert Media.objects.filter(uuid=body["uuid"]).exists()
    assert len(files_under(media_root)) == 1


def test_anonymous_delete_is_403(anon, workspace):
    media = make_media(workspace)
    assert anon.delete(f"{URL}?uuid={media.uuid}").status_code == 403
    assert Media.objects.filter(pk=media.pk).exists()


def test_another_workspaces_upload_cannot_be_deleted(admin, other_workspace, make_client, media_root):
    body = upload(make_client(other_workspace), "a.gif", samples.GIF, "image/gif").json()
    response = admin.delete(f"{URL}?uuid={body['uuid']}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert Media.objects.filter(uuid=body["uuid"]).exists()
    assert len(files_under(media_root)) == 1


@pytest.mark.parametrize(
    ("query", "status", "detail"),
    [
        ("", 400, "URL must contain one of the following parameters: uuid"),
        ("?uuid=xyz", 400, "Param 'uuid': xyz is not a valid UUID."),
        ("?uuid=ad6acad9-959b-4d70-b144-5de2891e4d00", 404, "Not found."),
    ],
)
def test_delete_errors(admin, query, status, detail):
    response = admin.delete(URL + query)
    assert (response.status_code, response.json()) == (status, {"detail": detail})


def test_a_post_with_a_uuid_still_creates(admin, workspace):
    first = make_media(workspace)
    body, header = samples.multipart("a.gif", samples.GIF, "image/gif")
    response = admin.post(f"{URL}?uuid={first.uuid}", data=body, content_type=header)
    assert response.status_code == 201
    assert response.json()["uuid"] != str(first.uuid)
    assert Media.objects.get(pk=first.pk).content_type == "image/jpeg"
