"""`Idempotency-Key` on POST: the same key with the same request gets the first response again and writes nothing.

How a keyed POST runs (`run_once`), all in one transaction:
1. Drop this key's row if it has expired, then look the key up. Found: the same request is answered with the stored
   response (header `Idempotent-Replayed: true`); a different request with 422.
2. Not found: insert the key's row *before* writing. The unique (workspace, key) makes a second request with the
   same key wait here until the first one's transaction ends (PostgreSQL blocks on the insert; SQLite lets only one
   write transaction run at a time); it then finds the stored response and replays it. So two racing requests
   never both write.
3. Do the write. A 2xx response is stored in the row and committed with the write; anything else rolls the row back,
   so a request refused with a 400 can be retried under the same key with a fixed body.

Keys are per workspace and live 24 hours: older ones are ignored, and a periodic task purges them
(`purge_expired`, run by `herald.api.tasks`).
"""

import hashlib
import json
from datetime import timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from herald.api.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
LIFETIME = timedelta(hours=24)

INVALID_KEY = f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."
KEY_REUSED = f"This {HEADER} was already used with a different request."
# Only if the key's row exists but can't be read yet (e.g. a PostgreSQL session at REPEATABLE READ).
IN_PROGRESS = f"A request with this {HEADER} is still being processed."


def key_from(request) -> str | None:
    """The request's key, None when it has none; a malformed one is a 400 answered by the caller."""
    return request.headers.get(HEADER)


def is_valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and all(" " <= char <= "~" for char in key)


def run_once(view, key: str, write) -> HttpResponse:
    """Answer a keyed POST: `write()` does the real work and returns its response, at most once per key."""
    if not is_valid_key(key):
        return Response({"detail": INVALID_KEY}, status=status.HTTP_400_BAD_REQUEST)
    request, workspace = view.request, view.workspace
    fingerprint = request_fingerprint(request)

    with transaction.atomic():
        earlier = _current(workspace, key)
        if earlier is not None:
            return _replay(earlier, fingerprint)
        claimed = _claim(workspace, key, view.endpoint_name, fingerprint)
        if claimed is None:
            # Another request inserted the key first and has finished since: its row is readable now.
            earlier = _current(workspace, key)
            if earlier is None:
                return Response({"detail": IN_PROGRESS}, status=status.HTTP_409_CONFLICT)
            return _replay(earlier, fingerprint)

        response = write()
        if status.is_success(response.status_code):
            claimed.response_status = response.status_code
            claimed.response_body = JSONRenderer().render(response.data).decode()
            claimed.save(update_fields=("response_status", "response_body"))
        else:
            # Only successes are remembered.
            transaction.set_rollback(True)
        return response


def request_fingerprint(request) -> str:
    """SHA-256 of what makes two requests "the same": method, path, query, and the body as parsed (so key order
    and white space in JSON don't matter). Uploaded files are hashed chunk by chunk, never held in memory whole."""
    digest = hashlib.sha256()
    query = sorted(request.query_params.lists())
    head = [request.method, request.path.rstrip("/"), query]
    digest.update(json.dumps(head, ensure_ascii=False).encode())

    data = request.data
    if hasattr(data, "lists"):  # a form or multipart body: fields and files
        for name, values in sorted(data.lists(), key=lambda item: item[0]):
            for value in values:
                digest.update(b"\0" + name.encode() + b"\0")
                if isinstance(value, UploadedFile):
                    _update_with_file(digest, value)
                else:
                    digest.update(b"v" + str(value).encode())
    else:
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest.update(b"\0json\0" + canonical.encode())
    return digest.hexdigest()


def _update_with_file(digest, upload: UploadedFile) -> None:
    digest.update(b"f" + json.dumps([upload.name, upload.content_type]).encode())
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)


def _current(workspace, key: str) -> IdempotencyKey | None:
    """The key's unexpired row; an expired one is deleted so the key can start afresh."""
    IdempotencyKey.objects.filter(workspace=workspace, key=key, created_on__lt=_cutoff()).delete()
    return IdempotencyKey.objects.filter(workspace=workspace, key=key).first()


def _claim(workspace, key: str, endpoint: str, fingerprint: str) -> IdempotencyKey | None:
    """Insert the key's row, waiting for any other request that holds it; None if that request stored it first."""
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                workspace=workspace, key=key, endpoint=endpoint, fingerprint=fingerprint
            )
    except IntegrityError:
        return None


def _replay(earlier: IdempotencyKey, fingerprint: str) -> HttpResponse:
    if earlier.fingerprint != fingerprint:
        return Response({"detail": KEY_REUSED}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    response = HttpResponse(earlier.response_body, status=earlier.response_status, content_type="application/json")
    response[REPLAYED_HEADER] = "true"
    return response


def _cutoff():
    return timezone.now() - LIFETIME


def purge_expired() -> int:
    """Delete expired keys; how many."""
    deleted, _ = IdempotencyKey.objects.filter(created_on__lt=_cutoff()).delete()
    return deleted
