"""Celery tasks of contacts: wiring only (the work is in `imports`)."""

from celery import shared_task

from . import imports


@shared_task(name="herald.contacts.tasks.import_contacts")
def import_contacts(import_id: int) -> None:
    """Import an uploaded CSV file (a `ContactImport`); safe to run twice."""
    imports.run_import(import_id)
