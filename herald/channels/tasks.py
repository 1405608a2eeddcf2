"""Celery tasks of the channels app, run by the worker's beat beside the pipeline's tick (see
settings.CELERY_BEAT_SCHEDULE)."""

import logging

from celery import shared_task

from herald.channels import channel_logs

logger = logging.getLogger(__name__)


@shared_task(name="herald.channels.tasks.purge_channel_logs")
def purge_channel_logs() -> int:
    """Delete the channel logs older than HERALD_CHANNEL_LOG_DAYS (every settings.CHANNEL_LOG_PURGE_SECONDS)."""
    deleted = channel_logs.purge_expired()
    if deleted:
        logger.info("purged %s expired channel logs", deleted)
    return deleted
