"""Keeping uploads: a Media row and its file, created together.

Files live at `MEDIA_ROOT/<workspace uuid>/<uuid[0:4]>/<uuid>/<filename>`: one directory per upload, so names never
collide and removing an upload is removing its directory.
"""

import shutil
import uuid
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from . import quota
from .models import Media


def media_url(request, media_uuid: uuid.UUID, filename: str) -> str:
    """The absolute URL a file is served at: HERALD_BASE_URL if set (it outlives the request), else the request's."""
    path = reverse("media.serve", kwargs={"media_uuid": media_uuid, "filename": filename})  # percent-encodes
    if settings.BASE_URL:
        return settings.BASE_URL + path
    return request.build_absolute_uri(path)


def store_upload(*, workspace, user, upload, filename: str, content_type: str, request) -> Media:
    """Write the file, then save its row if the workspace's quota has room (else `quota.QuotaExceeded`); if anything
    fails, the file goes. Writing first keeps the quota lock (see `quota.reserve`) as short as an insert.

    If a transaction around this one fails to commit, call `discard_if_uncommitted` so no file outlives its row.
    """
    media_uuid = uuid.uuid4()
    relative = PurePosixPath(str(workspace.uuid), str(media_uuid)[:4], str(media_uuid), filename)
    media = Media(
        uuid=media_uuid,
        workspace=workspace,
        content_type=content_type,
        filename=filename,
        path=str(relative),
        url=media_url(request, media_uuid, filename),
        size=upload.size,
        created_by=user if user and user.is_authenticated else None,
    )
    _write(upload, media)
    try:
        with transaction.atomic():
            quota.reserve(workspace, media.size)
            media.save()
    except BaseException:
        _remove_files(media)
        raise
    return media


def delete_upload(media: Media) -> None:
    """Delete the row, then (once that is committed) its file: the quota is freed at once, and a file is never gone
    while its row still says it exists. Messages keep their text; the attachment URL they carry answers 404."""
    with transaction.atomic():
        media.delete()
        transaction.on_commit(lambda: _remove_files(media))


def discard_if_uncommitted(media: Media) -> None:
    """Remove the upload's directory unless its row made it into the database."""
    if not Media.objects.filter(uuid=media.uuid).exists():
        _remove_files(media)


def read_content(media: Media) -> bytes:
    """The upload's bytes (a channel that sends media itself rather than its URL: e-mail attachments)."""
    return (_root() / media.path).read_bytes()


def _root() -> Path:
    return Path(settings.MEDIA_ROOT)


def _directory(media: Media) -> Path:
    return _root() / PurePosixPath(media.path).parent


def _write(upload, media: Media) -> None:
    directory = _directory(media)
    target = _root() / media.path
    # Names are cleaned upstream; this guards the invariant that nothing is written outside the media root.
    if target.resolve().parent != directory.resolve() or not directory.resolve().is_relative_to(_root().resolve()):
        raise ValueError(f"refusing to write outside the media root: {media.path!r}")
    directory.mkdir(parents=True, exist_ok=True)
    try:
        with open(target, "xb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
    except BaseException:
        _remove_files(media)
        raise


def _remove_files(media: Media) -> None:
    shutil.rmtree(_directory(media), ignore_errors=True)
