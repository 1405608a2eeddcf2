"""POST /api/v2/media.json: uploads, their checks, where they are kept and the URL they are served at."""

import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from herald.api.v2 import media as media_endpoint
from herald.api.v2.base import BLOCKER_FLAGGED, BLOCKER_SUSPENDED
from herald.media import storage
from herald.media.models import Media
from herald.media.tests import samples

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


@pytest.mark.parametrize("role", ["admin", "editor", "agent"])
def test_every_role_may_upload(workspace, make_client, role):
    assert upload(make_client(workspace, role), "a.gif", samples.GIF, "image/gif").status_code == 201


def test_anonymous_upload_is_403(anon):
    response = upload(anon, "a.gif", samples.GIF, "image/gif")
    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_is_allowed(admin, method):
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
    assert not Media.objects.exists() and not files_under(media_root)


@pytest.mark.parametrize(
    "content, content_type",
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
    assert not Media.objects.exists() and not files_under(media_root)


@pytest.mark.parametrize(
    "content, content_type",
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


def test_reference_size_message_for_the_default_limit(admin, settings, media_root):
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
    "name, content_type, expected",
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
    assert filename.endswith(".png") and filename.startswith(base[:10])
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


@pytest.mark.parametrize("flag, message", [("is_flagged", BLOCKER_FLAGGED), ("is_suspended", BLOCKER_SUSPENDED)])
def test_blocked_workspace_cannot_upload(admin, workspace, media_root, flag, message):
    setattr(workspace, flag, True)
    workspace.save()
    response = upload(admin, "a.gif", samples.GIF, "image/gif")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [message]}
    assert not Media.objects.exists() and not files_under(media_root)


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


def test_openapi_describes_the_upload(anon):
    operations = anon.get("/api/v2/openapi.json").json()["paths"]["/api/v2/media.json"]
    assert set(operations) == {"post"}
    post = operations["post"]
    form = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert "application/json" not in post["requestBody"]["content"]
    assert {"201", "400", "415"} <= set(post["responses"])
    created = post["responses"]["201"]["content"]["application/json"]["schema"]
    assert form and created
