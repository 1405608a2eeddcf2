"""Outgoing message statuses: the one place that changes them, forward only.

Order: queued / initializing < errored < wired < sent < delivered < read. A change is applied only if it moves the
message forward, and every write is a guarded `UPDATE ... WHERE status IN (...)`, so a late or duplicated report,
or two writers racing, can never move a message back.

`failed` is a side exit with these rules (decided here; RapidPro has none and lets a late "sent" undo "delivered":
docs/COMPATIBILITY.md, C14):
- `failed` is accepted from anything before `delivered`, including `wired` and `sent` (the gateway took the message,
  then reported it undeliverable); a `failed` report after `delivered` / `read` is ignored.
- Once failed, a message stays failed, except that a `delivered` or `read` report still wins: it is proof the
  contact has the message (e.g. we gave up after timeouts the gateway had in fact survived). `failed_reason` is then
  cleared, so status and reason never disagree.
- `errored` is not a report but a send outcome: see `record_send_result`.

A paused broadcast's messages are held (`hold` / `release`, a side move that keeps `error_count` and
`next_attempt`): held queued ranks as queued and held errored as errored, so a send result or a report that arrives
for a held message (it was on the wire when the pause came) is still recorded and resume does not send it again.
An interrupted or expired broadcast's unsent messages fail (`fail_unsent`); a send already on the wire then that the
gateway accepts is recorded as `wired` all the same (the truth wins over the reason; docs/COMPATIBILITY.md, C48).

`sent_on` is set the first time a message is wired / sent / delivered / read and never changed after.

Every change is also told to webhooks (`message.status`, herald/webhooks/events.py) in the transaction that makes
it, one event per batch of changes and status, and only when a subscription of the workspace wants them.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, DateTimeField, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from herald.channels.base import PermanentSendError, RecipientStopped, SendError, SendResult, TransientSendError
from herald.contacts.models import StatusReason
from herald.contacts.writes import stop_contacts
from herald.webhooks import events

from .models import FailedReason, Msg, MsgQuerySet, MsgStatus
from .windows import WindowClosed

S = MsgStatus
# Position in the forward order; statuses of equal rank don't replace each other.
RANK: dict[str, int] = {
    S.QUEUED: 0,
    S.INITIALIZING: 0,
    S.HELD_QUEUED: 0,
    S.ERRORED: 1,
    S.HELD_ERRORED: 1,
    S.WIRED: 2,
    S.SENT: 3,
    S.DELIVERED: 4,
    S.READ: 5,
}
HANDED_OVER = (S.WIRED, S.SENT, S.DELIVERED, S.READ)
# A send outcome only applies to a message still waiting to go out: if a delivery report already moved it on
# (a fast gateway can report before its answer to the send reaches us), the report wins.
SENDABLE = (S.QUEUED, S.INITIALIZING, S.ERRORED)
AWAITING_SEND = (*SENDABLE, S.HELD_QUEUED, S.HELD_ERRORED)
# Held and released: what a pause moves to what (and a resume back).
HOLDS = {S.QUEUED: S.HELD_QUEUED, S.ERRORED: S.HELD_ERRORED}
# Failed only because their broadcast ended before they went: a send that was on the wire then still counts.
ENDED_UNSENT = Q(status=S.FAILED, failed_reason__in=(FailedReason.INTERRUPTED, FailedReason.EXPIRED))


def allowed_from(new_status: str) -> tuple[str, ...]:
    """The statuses from which a message may move to `new_status`."""
    if new_status == S.FAILED:
        return (*AWAITING_SEND, S.WIRED, S.SENT)
    if new_status not in RANK:
        raise ValueError(f"{new_status!r} is not an outgoing message status")
    before = tuple(status for status, rank in RANK.items() if rank < RANK[new_status])
    return (*before, S.FAILED) if new_status in (S.DELIVERED, S.READ) else before


def apply_status(
    target: Msg | MsgQuerySet,
    new_status: str,
    *,
    external_id: str | None = None,
    detail: str = "",
    reason: str | None = None,
    now: datetime | None = None,
) -> bool | int:
    """Move a message (or every message of a queryset) to `new_status` if that is forward.

    For a `failed` move `reason` defaults to `FailedReason.PERMANENT` and `detail` is kept as `error_detail`.
    Returns whether the message changed (its in-memory fields updated to match), or for a queryset how many did.
    """
    now = now or timezone.now()
    fields: dict[str, Any] = {"status": new_status, "modified_on": now}
    if new_status in HANDED_OVER:
        fields.update(sent_on=now, failed_reason=None, next_attempt=None)
    elif new_status == S.FAILED:
        fields.update(failed_reason=reason or FailedReason.PERMANENT, next_attempt=None)
    if detail:
        fields["error_detail"] = detail
    if external_id is not None:
        fields["external_id"] = external_id
    if isinstance(target, QuerySet):
        announce = events.wanted_anywhere("message.status")
    else:
        announce = events.wanted(target.workspace_id, "message.status")
    if not announce:
        return _guarded_update(target, allowed_from(new_status), fields)
    with transaction.atomic():  # Event, with the change.
        # A queryset's messages are read first: what selects them may not select them once changed.
        ids = [target.pk] if isinstance(target, Msg) else list(target.values_list("pk", flat=True))
        changed = _guarded_update(target, allowed_from(new_status), fields)
        if changed:
            _announce(_moved(ids, fields))
        return changed


def record_send_result(
    msg: Msg, outcome: SendResult | Exception, now: datetime, max_retries: int | None = None
) -> bool:
    """Record what a channel's `send` did for `msg`: a `SendResult`, or the exception it raised.

    - `SendResult`                 -> `wired` (+ external id);
    - `PermanentSendError`         -> `failed` (reason PERMANENT, the error as `error_detail`);
    - `windows.WindowClosed`       -> unchanged, waiting until the window opens (`next_attempt`);
    - anything else (a `TransientSendError`, or an unexpected exception, which retrying may cure)
                                   -> `errored`, next attempt after the back-off in setting `SEND_RETRY_DELAYS`
                                      (HERALD_SEND_RETRY_DELAYS, seconds; default 10,60,300), or `failed` with
                                      reason RETRIES once `max_retries` retries (setting `SEND_MAX_RETRIES`,
                                      HERALD_SEND_MAX_RETRIES, default 3) have failed too.
    - `RecipientStopped`           -> `failed` with reason CONTACT, and the contact stopped (the provider says it
                                      opted out);
    A `TransientSendError`'s `retry_after` (the provider's `Retry-After`) delays the next attempt at least that long.
    Returns whether the message changed; it doesn't if a delivery report already moved it past `wired`.
    """
    changed = bool(_write_outcome(msg, plan_send_result(msg, outcome, now, max_retries)))
    if changed and isinstance(outcome, RecipientStopped):
        with transaction.atomic():
            stop_contacts([msg.contact_id], StatusReason.PROVIDER_STOP)
    return changed


def record_send_results(
    outcomes: Iterable[tuple[Msg, SendResult | Exception]], now: datetime, max_retries: int | None = None
) -> int:
    """`record_send_result` for many `(msg, outcome)` pairs in few queries: messages whose changes are identical
    (typically every success in a chunk) share one UPDATE. In-memory messages are not refreshed.
    Returns how many messages changed."""
    groups: defaultdict[tuple[tuple[str, Any], ...], list[int]] = defaultdict(list)
    workspace_ids, stopped = set(), set()
    for msg, outcome in outcomes:
        fields = plan_send_result(msg, outcome, now, max_retries)
        groups[tuple(sorted(fields.items()))].append(msg.pk)
        workspace_ids.add(msg.workspace_id)
        if isinstance(outcome, RecipientStopped):
            stopped.add(msg.contact_id)
    announce = any(events.wanted(workspace_id, "message.status") for workspace_id in workspace_ids)
    changed, moved = 0, list[tuple[int, int, str]]()
    for same_fields, ids in groups.items():
        count = _write_outcome(Msg.objects.filter(pk__in=ids), dict(same_fields))
        changed += count
        if announce and count and "status" in dict(same_fields):  # a closed send window changes no status
            moved += _moved(ids, dict(same_fields))
    if moved:  # Event: in the caller's transaction (delivery records each batch in one).
        _announce(moved)
    if stopped:  # in the same transaction: the failure and the opt-out are one fact
        stop_contacts(stopped, StatusReason.PROVIDER_STOP)
    return changed


def _write_outcome(target: Msg | MsgQuerySet, fields: dict[str, Any]) -> int:
    """Write a send outcome's `fields` to a message (or messages) still awaiting it; how many changed."""
    if fields.get("status") == S.WIRED:  # it went, even if its broadcast's end failed it meanwhile
        return int(_guarded_update(target, AWAITING_SEND, fields, also=ENDED_UNSENT))
    if fields.get("status") != S.ERRORED:  # failed, or waiting for its send window (no status change)
        return int(_guarded_update(target, AWAITING_SEND, fields))
    # A message held while it was on the wire waits for its retry held too, until its broadcast is resumed.
    held = tuple(HOLDS.values())
    if isinstance(target, QuerySet):  # one UPDATE for the lot
        stays_held = Case(When(status__in=held, then=Value(S.HELD_ERRORED)), default=Value(S.ERRORED))
        return int(_guarded_update(target, AWAITING_SEND, {**fields, "status": stays_held}))
    if _guarded_update(target, held, {**fields, "status": S.HELD_ERRORED}):
        return 1
    return int(_guarded_update(target, SENDABLE, fields))


def hold(msgs: MsgQuerySet, now: datetime) -> int:
    """Hold `msgs` that wait for their channel (queued, errored), out of the delivery scan; how many were held."""
    return sum(_lateral(msgs, before, after, now) for before, after in HOLDS.items())


def release(msgs: MsgQuerySet, now: datetime) -> int:
    """Put held `msgs` back where `hold` found them (errored ones keep their retry time); how many moved."""
    return sum(_lateral(msgs, after, before, now) for before, after in HOLDS.items())


def fail_unsent(msgs: MsgQuerySet, reason: str, now: datetime) -> int:
    """Fail those of `msgs` not yet handed to a channel (queued, errored, held) with `reason`; how many failed."""
    fields = {"status": S.FAILED, "failed_reason": reason, "next_attempt": None, "modified_on": now}
    return int(_guarded_update(msgs, AWAITING_SEND, fields))


def _lateral(msgs: MsgQuerySet, before: str, after: str, now: datetime) -> int:
    # `next_attempt` is left as it is: a retry's time, or (quiet hours) when a queued message may go.
    return int(_guarded_update(msgs, (before,), {"status": after, "modified_on": now}))


def plan_send_result(
    msg: Msg, outcome: SendResult | Exception, now: datetime, max_retries: int | None = None
) -> dict[str, Any]:
    """The field changes a send outcome calls for (not yet written)."""
    if isinstance(outcome, WindowClosed):  # not sent, not an attempt: it waits for the window (msgs/windows.py)
        return {"next_attempt": outcome.opens_at, "modified_on": now}
    if isinstance(outcome, SendResult):
        fields = {"status": S.WIRED, "sent_on": now, "next_attempt": None, "failed_reason": None}
        if outcome.external_id is not None:
            fields["external_id"] = outcome.external_id
        return {**fields, "modified_on": now}

    detail = outcome.detail if isinstance(outcome, SendError) else f"{type(outcome).__name__}: {outcome}"
    error_count = msg.error_count + 1
    fields = {"error_count": error_count, "error_detail": detail[:1000], "modified_on": now}
    if isinstance(outcome, PermanentSendError):
        reason = FailedReason.CONTACT if isinstance(outcome, RecipientStopped) else FailedReason.PERMANENT
        return {**fields, "status": S.FAILED, "failed_reason": reason, "next_attempt": None}
    if max_retries is None:
        max_retries = settings.SEND_MAX_RETRIES
    if error_count > max_retries:
        return {**fields, "status": S.FAILED, "failed_reason": FailedReason.RETRIES, "next_attempt": None}
    delay = retry_delay(error_count)
    if isinstance(outcome, TransientSendError) and outcome.retry_after is not None:
        # The provider's own word, capped: a Retry-After of a week must not park a message past its broadcast.
        delay = max(delay, timedelta(seconds=min(outcome.retry_after, MAX_RETRY_AFTER_SECONDS)))
    return {**fields, "status": S.ERRORED, "next_attempt": now + delay}


# The longest a provider's Retry-After delays a message (an hour).
MAX_RETRY_AFTER_SECONDS = 3600


def retry_delay(error_count: int) -> timedelta:
    """Back-off before the next attempt after the `error_count`-th failure (the last delay repeats)."""
    delays = settings.SEND_RETRY_DELAYS
    return timedelta(seconds=delays[min(error_count, len(delays)) - 1])


def _guarded_update(
    target: Msg | MsgQuerySet, allowed: tuple[str, ...], fields: dict[str, Any], also: Q | None = None
) -> bool | int:
    """Write `fields` where the status is one of `allowed` (or the row matches `also`)."""
    guard = Q(status__in=allowed) if also is None else Q(status__in=allowed) | also
    values = dict(fields)
    if "sent_on" in values:  # the first hand-over time is kept
        values["sent_on"] = Coalesce(F("sent_on"), Value(values["sent_on"], output_field=DateTimeField()))
    if isinstance(target, QuerySet):
        return target.outgoing().filter(guard).update(**values)

    changed = Msg.objects.outgoing().filter(guard, pk=target.pk).update(**values) == 1
    if changed:
        for name, value in fields.items():
            if name == "sent_on":
                value = target.sent_on or value
            setattr(target, name, value)
    return changed


def _moved(ids: list[int], fields: dict[str, Any]) -> list[tuple[int, int, str]]:
    """(workspace id, message id, status) of those of `ids` that the update writing `fields` changed: the ones that
    now have its status and its `modified_on` (a concurrent writer's change has another)."""
    changed = Msg.objects.filter(pk__in=ids, status=fields["status"], modified_on=fields["modified_on"])
    return [(workspace_id, pk, fields["status"]) for workspace_id, pk in changed.values_list("workspace_id", "pk")]


def _announce(moved: Iterable[tuple[int, int, str]]) -> None:
    """`message.status` events for these changes: per workspace, one per status (as the API names it)."""
    by_workspace: defaultdict[int, defaultdict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for workspace_id, pk, status in moved:
        by_workspace[workspace_id][MsgStatus(status).label].append(pk)
    for workspace_id, ids_by_status in by_workspace.items():
        events.message_statuses(workspace_id, ids_by_status)
