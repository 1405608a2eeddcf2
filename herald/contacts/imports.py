"""Contact imports in the background: the web interface keeps an uploaded CSV file (`create_import`) and queues a
task, which reads it (`run_import`) through the same importer and row checks as `herald contact import`
(`importer.import_contacts`), writing its progress for the page that follows it.
"""

import io
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .groups import name_error
from .importer import BATCH_SIZE, ImportAborted, ImportResult, import_contacts, utf8_lines
from .models import ContactImport

logger = logging.getLogger(__name__)

# Progress is written after this many rows (counted as each batch of BATCH_SIZE is written): a cheap UPDATE every
# other batch, fine-grained enough for a bar.
PROGRESS_EVERY = 2 * BATCH_SIZE
# How much of a file is looked at to tell a CSV (text) from something else before it is accepted.
SNIFF_BYTES = 64 * 1024


class NotImportable(ValueError):
    """An upload refused before anything is imported; the message says why, for the person who sent it."""


def max_bytes() -> int:
    # Uploads are as big as the API's (media.json) may be: one limit for what a workspace may send Herald.
    return settings.MEDIA_MAX_UPLOAD_BYTES


def check_upload(filename: str, size: int, head: bytes) -> None:
    """Refuse a file that is too big, empty or not CSV text (`head`: its first bytes)."""
    limit = max_bytes()
    if size > limit:
        raise NotImportable(f"The file is {size_text(size)}; the largest file Herald imports is {size_text(limit)}.")
    if not filename.lower().endswith(".csv"):
        raise NotImportable("Only CSV files can be imported (a name ending in .csv); save the sheet as CSV UTF-8.")
    if size == 0:
        raise NotImportable("The file is empty: it needs a header line.")
    if b"\0" in head or not _starts_as_utf8(head):
        raise NotImportable("This is not a CSV text file; save the sheet as CSV UTF-8.")


def _starts_as_utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The sniffed bytes may end inside a character: only an error before the last 3 bytes is one.
        return exc.start >= len(head) - 3
    return True


def size_text(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def check_group_name(name: str) -> None:
    error = name_error(name)
    if error:
        raise NotImportable(error)


def create_import(workspace, user, filename: str, content: bytes, group_name: str | None = None) -> ContactImport:
    """Keep the file for a worker to import (the caller queues `tasks.import_contacts` once this commits)."""
    check_upload(filename, len(content), content[:SNIFF_BYTES])
    if group_name:
        check_group_name(group_name)
    return ContactImport.objects.create(
        workspace=workspace,
        created_by=user,
        filename=filename[:255],
        group_name=group_name or None,
        content=content,
        size=len(content),
    )


def run_import(import_id: int) -> None:
    """Import the file of a pending import (the task; safe to run twice: only the run that claims it imports)."""
    claimed = ContactImport.objects.filter(pk=import_id, status=ContactImport.Status.PENDING).update(
        status=ContactImport.Status.RUNNING, progressed_on=timezone.now()
    )
    if not claimed:
        return
    job = ContactImport.objects.select_related("workspace").get(pk=import_id)
    raw = io.BytesIO(bytes(job.content))
    try:
        result = import_contacts(
            job.workspace,
            utf8_lines(raw),
            group_name=job.group_name,
            batch_size=BATCH_SIZE,
            progress=lambda progress: _save_progress(job, raw.tell(), progress),
            progress_every=PROGRESS_EVERY,
        )
    except ImportAborted as exc:
        _finish(job, exc.result or ImportResult(), ContactImport.Status.FAILED, problem=str(exc))
    except Exception:
        logger.exception("contact import %s stopped", job.uuid)
        problem = "The import stopped on an unexpected error: the rows counted above were imported."
        _finish(job, ImportResult(), ContactImport.Status.FAILED, problem=problem, keep_counts=True)
        raise
    else:
        _finish(job, result, ContactImport.Status.DONE)


def _save_progress(job: ContactImport, bytes_read: int, result: ImportResult) -> None:
    ContactImport.objects.filter(pk=job.pk).update(
        bytes_read=bytes_read,
        created=result.created,
        updated=result.updated,
        error_count=len(result.errors),
        progressed_on=timezone.now(),
    )


def stalled_problem() -> str:
    minutes = max(1, round(settings.CONTACT_IMPORT_STALL_SECONDS / 60))
    return (
        f"The import stopped: its worker made no progress for {minutes} minutes (it was stopped or crashed). "
        "The rows counted above were imported; import the file again for the rest (a row whose URN is already "
        "a contact's updates that contact)."
    )


def fail_stalled_imports(now: datetime) -> int:
    """Mark failed the running imports whose worker has shown nothing for CONTACT_IMPORT_STALL_SECONDS (the beat's
    sweep, herald/contacts/tasks.py): else a crashed worker's import stays "running" forever. Not run again: its
    file may be what crashed the worker. Their file is dropped, as at any end; returns how many."""
    quiet_since = now - timedelta(seconds=settings.CONTACT_IMPORT_STALL_SECONDS)
    stalled = Q(progressed_on__lt=quiet_since) | Q(progressed_on__isnull=True, created_on__lt=quiet_since)
    return (
        ContactImport.objects.filter(status=ContactImport.Status.RUNNING)
        .filter(stalled)
        .update(status=ContactImport.Status.FAILED, problem=stalled_problem(), finished_on=now, content=b"")
    )


def _finish(job: ContactImport, result: ImportResult, status: str, problem: str = "", keep_counts=False) -> None:
    """The outcome, and the file dropped: it holds contacts' details that are in the database now."""
    finished = {
        "status": status,
        "problem": problem,
        "finished_on": timezone.now(),
        "content": b"",
        "bytes_read": job.size,
    }
    if not keep_counts:
        outcome = result.as_dict()  # what `herald contact import --json` prints
        errors = sorted(outcome.pop("errors"), key=lambda error: error["line"])
        finished |= outcome | {
            "error_count": len(errors),
            "errors": errors[: ContactImport.MAX_LISTED_ERRORS],
            "ignored_columns": result.ignored_columns,
        }
    ContactImport.objects.filter(pk=job.pk).update(**finished)
