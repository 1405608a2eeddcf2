"""GET /media/<uuid>/<filename>: uploads served publicly, and never as something a browser would run."""

import uuid

import pytest
from django.urls import reverse

from herald.media.models import Media

from . import samples


def make_media(workspace, media_root, filename: str, content: bytes, content_type: str) -> Media:
    media_uuid = uuid.uuid4()
    relative = f"{workspace.uuid}/{str(media_uuid)[:4]}/{media_uuid}/{filename}"
    (media_root / relative).parent.mkdir(parents=True)
    (media_root / relative).write_bytes(content)
    url_path = reverse("media.serve", kwargs={"media_uuid": media_uuid, "filename": filename})
    return Media.objects.create(
        uuid=media_uuid,
        workspace=workspace,
        content_type=content_type,
        filename=filename,
        path=relative,
        url="http://testserver" + url_path,
        size=len(content),
    )


def url_path(media: Media) -> str:
    return media.url.removeprefix("http://testserver")


def test_serves_the_file_with_its_stored_type_and_safety_headers(client, workspace, media_root):
    media = make_media(workspace, media_root, "poster.png", samples.png(), "image/png")
    response = client.get(url_path(media))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == samples.png()
    assert response["Content-Type"] == "image/png"
    assert response["Content-Length"] == str(len(samples.png()))
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    assert "sandbox" in csp
    assert "default-src 'none'" in csp


def test_the_stored_type_wins_over_what_the_bytes_look_like(client, workspace, media_root):
    # Even if a page slipped through, the browser is told it's an image, may not sniff, and may run nothing.
    media = make_media(workspace, media_root, "x.png", samples.HTML, "image/png")
    response = client.get(url_path(media))
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("filename", ["steve marten.jpg", "poster (final) [v2].jpg", "Ünïcödé 名前.jpg"])
def test_percent_encoded_names_are_found(client, workspace, media_root, filename):
    media = make_media(workspace, media_root, filename, samples.JPEG, "image/jpeg")
    assert "%" in media.url
    response = client.get(url_path(media))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == samples.JPEG


def test_unknown_uuid_is_404(client, db):
    assert client.get(f"/media/{uuid.uuid4()}/poster.png").status_code == 404


def test_wrong_filename_is_404(client, workspace, media_root):
    media = make_media(workspace, media_root, "poster.png", samples.png(), "image/png")
    assert client.get(f"/media/{media.uuid}/other.png").status_code == 404


def test_missing_file_is_404(client, workspace, media_root):
    media = make_media(workspace, media_root, "poster.png", samples.png(), "image/png")
    (media_root / media.path).unlink()
    assert client.get(url_path(media)).status_code == 404


def test_not_a_uuid_is_404(client, db):
    assert client.get("/media/not-a-uuid/poster.png").status_code == 404
