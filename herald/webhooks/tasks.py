"""Celery tasks of webhook delivery: wiring only (`sender` does the work). They run on the `webhooks` queue, served
by a pool of its own (`herald worker`), so a slow receiver never takes a thread that sends messages."""

import logging
from collections.abc import Iterable

from celery import shared_task
from django.core.cache import caches

from . import sender
from .subscribed import subscribed_types

logger = logging.getLogger(__name__)


def _queued_key(webhook_id: int) -> str:
    return f"webhook-queued:{webhook_id}"


def enqueue(webhook_ids: Iterable[int]) -> None:
    """Queue a delivery turn for each subscription (one queued turn each is enough: it sends everything due). A turn
    that can't be queued is left to the tick."""
    cache = caches["shared"]
    for webhook_id in webhook_ids:
        if cache.add(_queued_key(webhook_id), 1, timeout=5):
            try:
                deliver_webhook.delay(webhook_id)
            except Exception:
                logger.exception("could not queue the deliveries of webhook %s: the tick will", webhook_id)
                cache.delete(_queued_key(webhook_id))


@shared_task(name="herald.webhooks.tasks.deliver_webhook")
def deliver_webhook(webhook_id: int) -> None:
    caches["shared"].delete(_queued_key(webhook_id))
    sender.deliver(webhook_id, hand_on=lambda: deliver_webhook.delay(webhook_id))


@shared_task(name="herald.webhooks.tasks.tick")
def tick() -> None:
    """Queue the subscriptions that have deliveries due (retries, and those whose task was lost). Without any active
    subscription nothing can be due: no query at all."""
    if subscribed_types():
        enqueue(sender.subscriptions_with_due_deliveries())
