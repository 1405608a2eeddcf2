"""Celery tasks of the API layer, run by the worker's beat beside the pipeline's tick (see
settings.CELERY_BEAT_SCHEDULE)."""

import logging

from celery import shared_task

from herald.api import idempotency

logger = logging.getLogger(__name__)


@shared_task(name="herald.api.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Forget the Idempotency-Keys that have expired (every settings.IDEMPOTENCY_PURGE_SECONDS)."""
    deleted = idempotency.purge_expired()
    if deleted:
        logger.info("purged %s expired Idempotency-Keys", deleted)
    return deleted
