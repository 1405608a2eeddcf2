"""The webhook figures of `/metrics`, read from the database at each scrape (right whichever worker delivers):

- `herald_webhook_deliveries{webhook, status}`: deliveries by subscription and status; `pending` is the backlog (events
  waiting for their first try or for a retry), `failed` those given up on (a 4xx, or 24 h of failed retries);
- `herald_webhook_attempts_failed_total{webhook}`: attempts that got no 2xx answer (timeouts and refusals included).

One grouped count over the deliveries and one over the failed attempts: a scrape's cost grows with what is kept.
"""

from collections.abc import Iterator

from django.db.models import Count, Q
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .models import Attempt, Delivery, DeliveryStatus, Webhook

STATUS_NAMES = {status.value: status.label for status in DeliveryStatus}


class WebhooksCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        webhooks = {pk: str(uuid) for pk, uuid in Webhook.objects.values_list("id", "uuid")}
        deliveries = GaugeMetricFamily(
            "herald_webhook_deliveries", "Webhook deliveries by subscription and status", labels=["webhook", "status"]
        )
        counts = {(pk, status): 0 for pk in webhooks for status in STATUS_NAMES}  # every series, 0 when empty
        rows = Delivery.objects.order_by().values_list("webhook_id", "status").annotate(n=Count("id"))
        counts.update({(pk, status): n for pk, status, n in rows if pk in webhooks})
        for (pk, status), n in counts.items():
            deliveries.add_metric([webhooks[pk], STATUS_NAMES.get(status, status)], n)
        yield deliveries

        failed = CounterMetricFamily(
            "herald_webhook_attempts_failed", "Webhook attempts without a 2xx answer", labels=["webhook"]
        )
        unanswered = Q(status_code__isnull=True) | Q(status_code__lt=200) | Q(status_code__gte=300)
        per_webhook = dict.fromkeys(webhooks, 0) | dict(
            Attempt.objects.filter(unanswered).order_by().values_list("delivery__webhook_id").annotate(n=Count("id"))
        )
        for pk, n in per_webhook.items():
            if pk in webhooks:
                failed.add_metric([webhooks[pk]], n)
        yield failed
