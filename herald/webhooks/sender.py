"""Delivering events: POSTs to each subscription's URL, apart from sending messages (their own queue and pool of
threads, `tasks`), at least once.

- One task at a time sends for a subscription (a lease on its row), with at most WEBHOOKS_CONCURRENCY requests in
  flight: a receiver is never sent more than that at once, however many events wait, so it is paced by its own
  speed. A turn takes new requests for WEBHOOKS_TASK_SECONDS, finishes those on the wire, then the subscription's
  next turn goes to the back of the queue.
- A subscription with a `batch_size` above 1 gets up to that many due events per POST, `{"events": [...]}` (each
  event as a single POST would carry it, its `id` unchanged), signed over that whole body: the receiver's cost per
  event (and Herald's: one request, one signature) shrinks with the batch. The events of a POST share its outcome.
- Each attempt is recorded (`Attempt`, one per event carried): the answer's status, how long it took, the start
  of its body, the error.
- 2xx: delivered. 410 Gone: the receiver says the subscription is over: it is deactivated and gets nothing more.
  408, 429, 5xx, a timeout, a connection error, a host that can't be resolved: retried after a back-off that
  starts at WEBHOOKS_BACKOFF_SECONDS and doubles each time (up to an hour; a longer `Retry-After` is honoured),
  for WEBHOOKS_RETRY_SECONDS (24 h) after the event. Any other answer (3xx: redirects are not followed; other 4xx)
  and a refused address: failed at once, since sending the same request again would get the same answer.
- The URL's host is resolved and checked at each attempt and the request goes to the address checked
  (`addresses.pin`), so a subscription can't be turned towards a private address after it was made.
"""

import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from . import signing
from .addresses import RefusedURL, Unresolvable, pin
from .models import Attempt, Delivery, DeliveryStatus, Event, Webhook

logger = logging.getLogger(__name__)

RESPONSE_EXCERPT = 500
USER_AGENT = "Herald-Webhooks/1"
# Answers worth trying again: the receiver is overloaded or broken for now.
RETRY_CODES = frozenset({408, 429})
GONE = 410


@dataclass(frozen=True)
class Outcome:
    started_on: datetime
    verdict: str  # "delivered", "retry", "failed" or "gone"
    status_code: int | None = None
    elapsed_ms: int = 0
    response: str = ""
    error: str = ""
    retry_after: float | None = None


def _envelope(event: Event) -> bytes:
    """`{"id", "type", "created_on", "data"}`. The data is spliced in as the database's JSON text when the event was
    read with it (`with_data_text`): a big `message.status` event is then never decoded and encoded again, the
    sender's main cost per event; the text is the same at every read, so the bytes are too."""
    # The API's own datetime format (api/v2/formats.py): UTC, six fractional digits, Z.
    created_on = event.created_on.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    head = _json({"id": str(event.uuid), "type": event.type, "created_on": created_on})
    data_text = getattr(event, "data_text", None)
    data = data_text.encode() if data_text is not None else _json(event.data)
    return head[:-1] + b',"data":' + data + b"}"


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def with_data_text(deliveries: QuerySet[Delivery]) -> QuerySet[Delivery]:
    """The deliveries with their events, each event's data as the database's JSON text (`data_text`), not decoded."""
    return deliveries.select_related("event").defer("event__data").annotate(data_text=Cast("event__data", TextField()))


def event_body(event: Event) -> bytes:
    """The JSON a delivery POSTs (the same bytes at every attempt): the event's id, type, time and object."""
    return _envelope(event)


def batch_body(events: list[Event]) -> bytes:
    """The JSON of a POST to a subscription that takes batches: `{"events": [...]}`, each as `event_body` has it."""
    return b'{"events":[' + b",".join(_envelope(event) for event in events) + b"]}"


def deliver(webhook_id: int, hand_on: Callable[[], object] | None = None) -> int:
    """Send what is due for a subscription, for one turn; returns how many POSTs were made. With `hand_on`,
    called when the turn ended with more due (it queues the next turn)."""
    owner = uuid.uuid4().hex
    if not _take_lease(webhook_id, owner):
        return 0
    try:
        turn = Turn(webhook_id, owner)
        more = turn.run()
    finally:
        _release_lease(webhook_id, owner)
    if more and hand_on is not None:
        hand_on()
    return turn.made


class Turn:
    """One task's turn at a subscription: up to WEBHOOKS_CONCURRENCY requests in flight, a new one leaving as soon
    as one is answered (a request that hangs holds one place, not the others), for WEBHOOKS_TASK_SECONDS. Due
    deliveries are read a page at a time and outcomes recorded a few per transaction: few writes per event."""

    POLL_SECONDS = 0.25  # how often free places look for newly due deliveries while requests are on the wire
    PAGE = 100
    RECORD_BATCH = 16

    def __init__(self, webhook_id: int, owner: str):
        self.webhook_id, self.owner = webhook_id, owner
        self.made = 0
        self.deadline = time.monotonic() + settings.WEBHOOKS_TASK_SECONDS
        self.checked = 0.0
        self.looked = 0.0
        self.webhook: Webhook | None = None

    def run(self) -> bool:
        """Whether more may be due when the turn ends."""
        concurrency = settings.WEBHOOKS_CONCURRENCY
        timeout = httpx.Timeout(settings.WEBHOOKS_TIMEOUT)
        in_flight: dict[Future[Outcome], list[Delivery]] = {}
        waiting: deque[Delivery] = deque()
        answered: list[tuple[Delivery, Outcome]] = []
        accepting, more = True, False
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="webhook") as pool,
        ):
            while True:
                if not self._still_ours():
                    accepting = False
                if accepting and not waiting and len(in_flight) < concurrency:
                    # Not those on the wire, nor those answered but not yet recorded.
                    busy = [d.id for batch in in_flight.values() for d in batch] + [d.id for d, _ in answered]
                    waiting.extend(self._due(busy))
                while accepting and waiting and len(in_flight) < concurrency and self.webhook is not None:
                    batch = [waiting.popleft() for _ in range(min(self.webhook.batch_size, len(waiting)))]
                    in_flight[pool.submit(post, client, self.webhook, batch)] = batch
                    self.made += 1
                if not in_flight:
                    self._record(answered)
                    return more
                # The requests run in the pool's threads; the database is only touched here.
                done, _ = wait(in_flight, timeout=self.POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    answered += [(delivery, future.result()) for delivery in in_flight.pop(future)]
                # Recorded a few at a time (a crash sends those not yet recorded again: at least once).
                if answered and (len(answered) >= self.RECORD_BATCH or not in_flight or not done):
                    if self._record(answered) == "gone":
                        accepting = False
                    answered = []
                if accepting and time.monotonic() >= self.deadline:
                    accepting, more = False, True  # finish what is on the wire, then the next turn

    def _still_ours(self) -> bool:
        """The subscription is active and this turn holds its lease (checked, and the lease renewed, each second)."""
        if time.monotonic() - self.checked >= 1.0:
            _renew_lease(self.webhook_id, self.owner)
            self.webhook = Webhook.objects.filter(id=self.webhook_id, is_active=True, sending_owner=self.owner).first()
            self.checked = time.monotonic()
        return self.webhook is not None

    def _due(self, in_flight: list[int]) -> list[Delivery]:
        """The next page of due deliveries; looked for at most every POLL_SECONDS while the last look found few."""
        if time.monotonic() - self.looked < self.POLL_SECONDS:
            return []
        due = Delivery.objects.filter(
            webhook_id=self.webhook_id, status=DeliveryStatus.PENDING, next_attempt__lte=timezone.now()
        ).exclude(id__in=in_flight)
        page = list(with_data_text(due).order_by("next_attempt", "id")[: self.PAGE])
        for delivery in page:  # the annotation sits on the delivery: the body is the event's
            delivery.event.data_text = delivery.data_text  # type: ignore[attr-defined]
        self.looked = 0.0 if len(page) == self.PAGE else time.monotonic()
        return page

    def _record(self, answered: list[tuple[Delivery, Outcome]]) -> str | None:
        """Record outcomes in one transaction; "gone" if one ended the subscription."""
        if not answered or self.webhook is None:
            return None
        try:
            verdicts = record(self.webhook, answered)
        except IntegrityError:  # the subscription was deleted meanwhile, with its deliveries
            logger.info("webhook %s was deleted while its deliveries were on the wire", self.webhook_id)
            return "gone"
        return "gone" if "gone" in verdicts else None


def post(client: httpx.Client, webhook: Webhook, deliveries: list[Delivery]) -> Outcome:
    """One attempt at deliveries (one, or a batch for a subscription that takes them): never raises, every failure
    is an outcome."""
    started_on, started = timezone.now(), time.monotonic()

    def outcome(
        verdict: str,
        status_code: int | None = None,
        response: str = "",
        error: str = "",
        retry_after: float | None = None,
    ) -> Outcome:
        elapsed = int((time.monotonic() - started) * 1000)
        return Outcome(started_on, verdict, status_code, elapsed, response, error, retry_after)

    if webhook.batch_size > 1:
        body = batch_body([d.event for d in deliveries])
        described = {"Herald-Event-Count": str(len(deliveries))}
    else:
        (delivery,) = deliveries
        described = {"Herald-Event-Id": str(delivery.event.uuid), "Herald-Event-Type": delivery.event.type}
        body = event_body(delivery.event)
    try:
        target = pin(webhook.url)
    except Unresolvable as exc:
        return outcome("retry", error=str(exc))
    except RefusedURL as exc:
        return outcome("failed", error=str(exc))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **described,
        **signing.headers(webhook.secret, int(time.time()), body),
        **target.headers,
    }
    try:
        with client.stream("POST", target.url, content=body, headers=headers, extensions=target.extensions) as answer:
            excerpt = _excerpt(answer)
    except httpx.TimeoutException:
        return outcome("retry", error=f"no answer within {settings.WEBHOOKS_TIMEOUT:g} s")
    except httpx.HTTPError as exc:
        return outcome("retry", error=f"{type(exc).__name__}: {exc}"[:1000])
    code = answer.status_code
    if 200 <= code < 300:
        verdict = "delivered"
    elif code == GONE:
        verdict = "gone"
    elif code in RETRY_CODES or code >= 500:
        verdict = "retry"
    else:
        verdict = "failed"
    return outcome(verdict, status_code=code, response=excerpt, retry_after=_retry_after(answer))


def _excerpt(answer: httpx.Response) -> str:
    data = b""
    for chunk in answer.iter_bytes():
        data += chunk
        if len(data) >= RESPONSE_EXCERPT * 4:
            break
    return data.decode("utf-8", errors="replace")[:RESPONSE_EXCERPT]


def _retry_after(answer: httpx.Response) -> float | None:
    value = answer.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    delay = settings.WEBHOOKS_BACKOFF_SECONDS * 2 ** min(attempts - 1, 30)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return timedelta(seconds=min(delay, settings.WEBHOOKS_MAX_BACKOFF_SECONDS))


def record(webhook: Webhook, answered: list[tuple[Delivery, Outcome]]) -> list[str]:
    """Store attempts and what they mean for their deliveries, in one transaction and few statements; returns each
    delivery's verdict (a retry past the retry period is a failure)."""
    now = timezone.now()
    attempts, verdicts = [], []
    groups: dict[tuple[tuple[str, object], ...], list[int]] = {}
    for delivery, outcome in answered:
        verdict, changes = _plan(delivery, outcome, now)
        verdicts.append(verdict)
        groups.setdefault(tuple(sorted(changes.items())), []).append(delivery.id)
        attempts.append(
            Attempt(
                delivery=delivery,
                number=delivery.attempts + 1,
                started_on=outcome.started_on,
                status_code=outcome.status_code,
                elapsed_ms=outcome.elapsed_ms,
                response=outcome.response,
                error=outcome.error,
            )
        )
        delivery.attempts += 1
    with transaction.atomic():
        Attempt.objects.bulk_create(attempts)
        for same_changes, ids in groups.items():
            Delivery.objects.filter(id__in=ids, status=DeliveryStatus.PENDING).update(**dict(same_changes))
        if "gone" in verdicts:
            end_subscription(webhook, f"the receiver answered {GONE} Gone on {now:%Y-%m-%d %H:%M:%S} UTC")
    return verdicts


def _plan(delivery: Delivery, outcome: Outcome, now: datetime) -> tuple[str, dict[str, object]]:
    """The verdict on a delivery after this attempt, and the changes it calls for (not yet written)."""
    number = delivery.attempts + 1
    verdict = outcome.verdict
    changes: dict[str, object] = {"attempts": number, "modified_on": now}
    if verdict == "retry":
        next_attempt = now + backoff(number, outcome.retry_after)
        if next_attempt - delivery.event.created_on > timedelta(seconds=settings.WEBHOOKS_RETRY_SECONDS):
            verdict = "failed"
        else:
            changes["next_attempt"] = next_attempt
    if verdict == "delivered":
        changes["status"] = DeliveryStatus.DELIVERED
    elif verdict in ("failed", "gone"):
        changes["status"] = DeliveryStatus.FAILED
    return verdict, changes


def end_subscription(webhook: Webhook, reason: str) -> None:
    """Deactivate a subscription: it gets nothing more, and what waited for it fails."""
    now = timezone.now()
    Webhook.objects.filter(id=webhook.id).update(is_active=False, deactivated_reason=reason, modified_on=now)
    Delivery.objects.filter(webhook_id=webhook.id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, modified_on=now
    )


def subscriptions_with_due_deliveries() -> list[int]:
    """The active subscriptions that have deliveries due and no sender at work (for the tick)."""
    now = timezone.now()
    return list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt__lte=now, webhook__is_active=True)
        .exclude(webhook__sending_until__gt=now)
        .values_list("webhook_id", flat=True)
        .distinct()
    )


# The lease: one sender per subscription. It outlives a sender that died holding it by about one round of requests.
def _lease_until() -> datetime:
    return timezone.now() + timedelta(seconds=2 * settings.WEBHOOKS_TIMEOUT + settings.WEBHOOKS_TASK_SECONDS + 5)


def _take_lease(webhook_id: int, owner: str) -> bool:
    free = Q(sending_until__isnull=True) | Q(sending_until__lt=timezone.now())
    taken = Webhook.objects.filter(free, id=webhook_id, is_active=True)
    return taken.update(sending_until=_lease_until(), sending_owner=owner) == 1


def _renew_lease(webhook_id: int, owner: str) -> None:
    Webhook.objects.filter(id=webhook_id, sending_owner=owner).update(sending_until=_lease_until())


def _release_lease(webhook_id: int, owner: str) -> None:
    Webhook.objects.filter(id=webhook_id, sending_owner=owner).update(sending_until=None, sending_owner="")
