"""Celery tasks of contacts: wiring only (the work is in `imports`)."""

from celery import shared_task
from django.utils import timezone

from . import imports


@shared_task(name="herald.contacts.tasks.import_contacts")
def import_contacts(import_id: int) -> None:
    """Import an uploaded CSV file (a `ContactImport`); safe to run twice."""
    imports.run_import(import_id)


@shared_task(name="herald.contacts.tasks.fail_stalled_imports")
def fail_stalled_imports() -> int:
    """The beat's sweep (settings.CELERY_BEAT_SCHEDULE): running imports whose worker died are marked failed."""
    return imports.fail_stalled_imports(timezone.now())
