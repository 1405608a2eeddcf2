"""Making and ending subscriptions (the API's webhooks.json calls these): the rules that hold whoever asks."""

from collections.abc import Sequence

from django.db import IntegrityError, transaction

from herald.workspaces.models import Workspace

from . import events
from .addresses import check_url
from .models import Webhook

DUPLICATE_URL = "This workspace already has a webhook with this URL."
STATUSES_NEED_EVENT = "Only message.status events have statuses: add message.status to events, or leave this out."


class DuplicateURL(ValueError):
    pass


def url_taken(workspace: Workspace, url: str) -> bool:
    return Webhook.objects.filter(workspace=workspace, url=url, is_active=True).exists()


def subscribe(
    workspace: Workspace,
    url: str,
    event_types: Sequence[str],
    statuses: Sequence[str] = (),
    batch_size: int = 1,
    created_by=None,
) -> Webhook:
    """A new active subscription; `DuplicateURL` if the workspace has one for `url` (checked by a unique key, so
    two requests racing can't both make one), `addresses.RefusedURL` for a URL that may not be used."""
    check_url(url)
    try:
        with transaction.atomic():
            webhook = Webhook.objects.create(
                workspace=workspace,
                url=url,
                events=list(dict.fromkeys(event_types)),
                statuses=list(dict.fromkeys(statuses)),
                batch_size=batch_size,
                created_by=created_by,
            )
    except IntegrityError:
        raise DuplicateURL(DUPLICATE_URL) from None
    transaction.on_commit(events.forget_subscriptions)
    return webhook


def unsubscribe(webhook: Webhook) -> None:
    """Delete a subscription with its deliveries and their attempts."""
    webhook.delete()
    transaction.on_commit(events.forget_subscriptions)
