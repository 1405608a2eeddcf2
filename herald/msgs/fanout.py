"""Turning a broadcast into one message per recipient.

Recipients are walked in contact-id order, a batch at a time (keyset: `id > last`), so memory stays flat however big
the audience is. A batch costs one query for the contacts and one for their URNs; its messages are rendered in plain
Python (no model instances) and written with one statement (`msg_rows`).

Several workers can share one broadcast: `plan()` cuts the audience into contact-id ranges, which separate tasks fan
out at the same time (`tasks.fan_out_range`). Batches only pick recipients that have no message yet, so running a
range again, or resuming after a crash, is simply running it again. Each batch commits together with the broadcast's
progress under a lock on the broadcast row and re-checks inside that lock which of its contacts got a message in the
meantime; the unique (broadcast, contact) key backs that up. So a batch that runs twice, or two tasks on one range,
never create a message twice. The broadcast is completed by whichever task finds, under the same lock, that no
recipient is left without a message.

A fan-out that can't finish must not be retried forever (the tick resumes a stalled broadcast every
BROADCAST_STALL_SECONDS). `failures` counts the attempts in a row that failed, and an attempt is counted as failed
while it works: from when it is claimed (`plan`) or one of its range tasks begins (`count_attempt`) until that task
ends (`settle_attempt`) or a batch of messages is written (which clears the count). So an attempt whose worker is
killed (the kernel's OOM killer leaves no exception to count) stays counted, like one that ends in an error; a
worker killed once in the middle of a big fan-out costs nothing (the batches it wrote cleared the count); range
tasks still waiting in a busy queue count nothing. After BROADCAST_MAX_FAILURES failed attempts in a row the
broadcast is failed instead of claimed again. Each attempt has a number (how many failed before it), which its
tasks carry: the count moves only from that number to the next and back, so one worker dying with four ranges of
a broadcast in its threads is one failure, not four.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, QuerySet, Value, When
from django.utils import timezone

from herald.channels.models import Channel
from herald.channels.routing import choose_route
from herald.contacts.models import Contact, ContactGroup, ContactStatus, ContactURN
from herald.expressions import Template
from herald.expressions import parse as parse_template

from .context import contact_context
from .languages import candidate_languages, choose_content
from .models import Broadcast, BroadcastStatus, FailedReason, Msg, MsgStatus
from .msg_rows import NewMessage, insert_messages
from .recipients import Audience
from .segments import count_segments

logger = logging.getLogger(__name__)

FINISHED = (BroadcastStatus.COMPLETED, BroadcastStatus.FAILED, BroadcastStatus.INTERRUPTED)
UNFINISHED = (BroadcastStatus.QUEUED, BroadcastStatus.STARTED)
STATUS_LABELS = dict(ContactStatus.choices)


class RecipientURN(NamedTuple):
    """The parts of a ContactURN that routing and templates read."""

    id: int
    scheme: str
    path: str
    identity: str
    priority: int
    channel_id: int | None


@dataclass(slots=True)
class Recipient:
    """A contact as the fan-out needs it: read with `values_list`, far cheaper than a model instance."""

    id: int
    uuid: object
    name: str | None
    language: str | None
    status: str
    fields: dict
    created_on: object
    urns: list[RecipientURN]  # highest priority first
    group_names: list[str] | None  # only read when a template mentions groups

    def get_status_display(self) -> str:
        return STATUS_LABELS[self.status]


RECIPIENT_COLUMNS = ("id", "uuid", "name", "language", "status", "fields", "created_on")


@dataclass
class CompiledContent:
    """One translation choice with its templates parsed: shared by every contact who gets that choice."""

    text: Template
    locale: str | None
    attachments: list
    quick_replies: list  # [(quick reply dict, parsed text template or None)]
    personal: bool  # some template has an expression: render per contact


class BroadcastPlan:
    """What is worked out once per broadcast: channels, parsed templates per language choice."""

    def __init__(self, broadcast: Broadcast):
        self.broadcast = broadcast
        self.workspace = broadcast.workspace
        self.channels = list(Channel.objects.filter(workspace=self.workspace, is_active=True).order_by("created_on"))
        self._compiled: dict[tuple, CompiledContent] = {}
        sources = [
            str(part)
            for translation in broadcast.translations.values()
            for part in (
                translation.get("text", ""),
                *translation.get("attachments", []),
                *(qr.get("text") or "" for qr in translation.get("quick_replies", [])),
            )
        ]
        self.needs_groups = any("groups" in s for s in sources)

    def compiled_for(self, contact_language: str | None) -> CompiledContent:
        candidates = candidate_languages(contact_language, self.workspace.languages, self.broadcast.base_language)
        compiled = self._compiled.get(candidates)
        if compiled is None:
            content = choose_content(self.broadcast.translations, candidates)
            text = parse_template(content.text)
            attachments = [parse_template(a) for a in content.attachments]
            quick_replies = [(dict(qr), parse_template(qr["text"]) if qr.get("text") else None)
                             for qr in content.quick_replies]  # fmt: skip
            templates = [text, *attachments, *(t for _, t in quick_replies if t is not None)]
            personal = any(t.has_expressions for t in templates)
            compiled = CompiledContent(text, content.text_language, attachments, quick_replies, personal)
            self._compiled[candidates] = compiled
        return compiled

    def new_message(self, recipient: Recipient) -> NewMessage:
        compiled = self.compiled_for(recipient.language)
        context = (
            contact_context(
                recipient,
                recipient.urns,
                recipient.group_names,
                self.workspace.globals,
                anonymous=self.workspace.is_anonymous,
            )
            if compiled.personal
            else {}
        )
        text = compiled.text.render(context)
        attachments = [a.render(context) for a in compiled.attachments]
        quick_replies = []
        for reply, template in compiled.quick_replies:
            rendered = dict(reply)  # a fresh copy per contact: never write one contact's values into another's
            if template is not None:
                rendered["text"] = template.render(context)
            quick_replies.append(rendered)

        route = choose_route(recipient.urns, self.channels)
        urn, channel = route or (None, None)
        status, failed_reason, error_detail = MsgStatus.QUEUED.value, None, ""
        if recipient.status != ContactStatus.ACTIVE:
            status, failed_reason = MsgStatus.FAILED.value, FailedReason.CONTACT.value
        elif self.workspace.is_suspended:
            status, failed_reason = MsgStatus.FAILED.value, FailedReason.SUSPENDED.value
        elif (length := rendered_length(text, quick_replies)) > Msg.MAX_RENDERED_TEXT_LEN:
            # Not cut short: a message that says something else than what was written is worse than none, and
            # this one says why. What is kept is what messages.json may show of it.
            status, failed_reason = MsgStatus.FAILED.value, FailedReason.TOO_LONG.value
            error_detail = (
                f"Once rendered, its text and quick replies are {length:,} characters, more than the"
                f" {Msg.MAX_RENDERED_TEXT_LEN:,} a message may have"
            )
            text, quick_replies = text[: Msg.MAX_RENDERED_TEXT_LEN], []
        elif route is None:
            status, failed_reason = MsgStatus.FAILED.value, FailedReason.NO_DESTINATION.value
        msg_count = count_segments(text) + len(attachments) if urn is not None and urn.scheme == "tel" else 1
        return NewMessage(
            contact_id=recipient.id,
            contact_urn_id=urn.id if urn else None,
            channel_id=channel.id if channel else None,
            text=text,
            attachments=attachments,
            quick_replies=quick_replies,
            locale=compiled.locale,
            status=status,
            failed_reason=failed_reason,
            msg_count=msg_count,
            error_detail=error_detail,
        )


def rendered_length(text: str, quick_replies: list[dict]) -> int:
    """What a message's templates made: its text and its quick replies' (each may repeat `@fields` lookups)."""
    return len(text) + sum(len(reply.get("text") or "") for reply in quick_replies)


# Walking the audience ---------------------------------------------------------------------------------------------


def fan_out(broadcast_id: int, on_batch=None) -> None:
    """Create every recipient's message, here and now. `on_batch(channel_ids)` runs after each batch commits.

    The tasks use `plan()` and `fan_out_range()` instead, so that several workers can share a big audience.
    """
    begun = _begin(broadcast_id, may_resume=False)
    if begun is None:
        return
    broadcast, audience, _ = begun
    _walk(BroadcastPlan(broadcast), audience, 0, None, on_batch)
    # Every recipient this walk saw has its message now (made here or by a concurrent task).
    _complete(broadcast_id)


class Plan(NamedTuple):
    """An attempt at a broadcast's fan-out: its number (None when there is no attempt to make) and its ranges."""

    attempt: int | None
    ranges: list[tuple[int, int | None]]


NOTHING_TO_DO = Plan(None, [])


def plan(broadcast_id: int, range_size: int) -> Plan:
    """Claim a broadcast's fan-out (an attempt, counted as failed until it settles) and cut what is left of it into
    contact-id ranges `(after, upto]` of about `range_size` recipients each, the last one open-ended (`upto` None).

    No ranges when there is nothing to do: the broadcast is finished, another task planned it moments ago (a
    duplicate start), its fan-out failed too often (it is failed here), or every recipient has a message (then the
    broadcast is completed here).
    """
    begun = _begin(broadcast_id, may_resume=True)
    if begun is None:
        return NOTHING_TO_DO
    broadcast, audience, attempt = begun
    if not _any_pending(broadcast, audience):
        _complete(broadcast_id)
        return NOTHING_TO_DO
    # Group members make up big audiences: cut where every `range_size`-th member without a message is (the few
    # direct recipients fall in whichever range holds their id). Keyset: one id read back per range.
    ranges, after = [], 0
    while True:
        members = _pending(broadcast, audience.members(after), after).order_by("id").values_list("id", flat=True)
        upto = next(iter(members[range_size - 1 : range_size]), None)
        ranges.append((after, upto))
        if upto is None:
            return Plan(attempt, ranges)
        after = upto


def count_attempt(broadcast_id: int, attempt: int) -> None:
    """A task of attempt number `attempt` begins: the attempt counts as failed, unless another of its tasks (or its
    claim) counted it already, or messages were written since it was claimed."""
    Broadcast.objects.filter(id=broadcast_id, failures=attempt).update(failures=attempt + 1)


def settle_attempt(broadcast_id: int, attempt: int) -> None:
    """A task of attempt number `attempt` ended without an error: the attempt doesn't count (if nothing else
    moved the count meanwhile)."""
    Broadcast.objects.filter(id=broadcast_id, failures=attempt + 1).update(failures=attempt)


def fan_out_range(broadcast_id: int, after: int, upto: int | None, on_batch=None) -> int:
    """Create the messages of the recipients with `after < id <= upto` (no upper bound if `upto` is None), then
    complete the broadcast if nobody is left without a message. Returns how many messages this call created."""
    broadcast = Broadcast.objects.select_related("workspace").get(id=broadcast_id)
    if broadcast.status in FINISHED:
        return 0
    audience = Audience(broadcast)
    created = _walk(BroadcastPlan(broadcast), audience, after, upto, on_batch)
    complete_if_done(broadcast, audience)
    return created


def _begin(broadcast_id: int, may_resume: bool) -> tuple[Broadcast, Audience, int | None] | None:
    """(broadcast, its audience, the attempt's number) for the task that begins an attempt at the fan-out, or None
    when there is nothing for this one to do. A pending broadcast is claimed (see `_claim`) and its recipients
    counted; with `may_resume`, a started one that went quiet (its tasks were lost, or its worker died) is claimed
    again (and counted, if the attempt that claimed it died before it could). Without `may_resume` a started
    broadcast is worked on without a claim (attempt None)."""
    broadcast = Broadcast.objects.select_related("workspace").get(id=broadcast_id)
    if broadcast.status in FINISHED:
        return None
    pending = broadcast.status == BroadcastStatus.PENDING
    attempt = None
    if pending or may_resume:
        # Claimed before anything else is done: whatever follows (resolving the audience too) is part of it.
        attempt = _claim(broadcast, pending)
        if attempt is None:
            return None
    audience = Audience(broadcast)
    if pending or broadcast.contact_count is None:
        Broadcast.objects.filter(id=broadcast.id).update(contact_count=audience.contacts().count())
    return broadcast, audience, attempt


def _claim(broadcast: Broadcast, pending: bool) -> int | None:
    """The number of the attempt it begins, for the one task that begins the next attempt: the one that moves the
    broadcast out of pending, or, for a started one, the first to find it quiet (this touches `modified_on`, so a
    duplicate start right after finds it busy); None for any other. The attempt counts as failed from here until
    it settles. When the attempts allowed have all failed, the broadcast is failed instead."""
    now = timezone.now()
    if pending:
        claimable = Broadcast.objects.filter(id=broadcast.id, status=BroadcastStatus.PENDING)
        changes = {"status": BroadcastStatus.QUEUED}
    else:
        quiet_since = now - timedelta(seconds=settings.BROADCAST_STALL_SECONDS)
        claimable = Broadcast.objects.filter(id=broadcast.id, status__in=UNFINISHED, modified_on__lt=quiet_since)
        changes = {}
    failed_before = claimable.values_list("failures", flat=True).first()
    if failed_before is None:
        return None
    limit = settings.BROADCAST_MAX_FAILURES
    if failed_before >= limit:
        if claimable.update(status=BroadcastStatus.FAILED, modified_on=now):
            logger.error("broadcast %s failed: %s fan-out attempts in a row failed", broadcast.id, limit)
        return None
    # Compare-and-set on the count too: of two tasks finding the broadcast claimable at once, one wins.
    won = claimable.filter(failures=failed_before).update(failures=failed_before + 1, modified_on=now, **changes)
    return failed_before if won else None


def _pending(broadcast: Broadcast, contacts: QuerySet, after: int = 0, upto: int | None = None) -> QuerySet:
    """Those of `contacts` that have no message of this broadcast yet. `after` and `upto` repeat the contacts' id
    bounds inside: PostgreSQL then starts its scan of the messages at `after` rather than at the first one."""
    has_message = Msg.objects.filter(broadcast_id=broadcast.id, contact_id=OuterRef("id"), contact_id__gt=after)
    if upto is not None:
        has_message = has_message.filter(contact_id__lte=upto)
    return contacts.filter(~Exists(has_message))


def _any_pending(broadcast: Broadcast, audience: Audience) -> bool:
    return any(_pending(broadcast, part).exists() for part in (audience.direct(), audience.members()))


def _walk(plan: BroadcastPlan, audience: Audience, after: int, upto: int | None, on_batch) -> int:
    """Create the messages of the recipients in `(after, upto]`: the direct ones, then the group members. Returns
    how many it created."""
    batch_size = settings.FANOUT_BATCH_SIZE
    created = 0
    for part in (audience.direct, audience.members):
        cursor = after
        while True:
            # The part is rebuilt from the cursor each time so that every bound in its query moves along.
            page = _pending(plan.broadcast, part(cursor, upto), cursor, upto).order_by("id")[:batch_size]
            rows = list(page.values_list(*RECIPIENT_COLUMNS))
            if not rows:
                break
            # The page's ids go to the next queries as a subquery, not as a list of a thousand parameters.
            new = write_batch(plan, with_urns(rows, ContactIds.of(rows, page.values("id")), plan.needs_groups))
            created += len(new)
            channel_ids = channels_with_work(new)
            if on_batch and channel_ids:
                on_batch(channel_ids)
            cursor = rows[-1][0]
    return created


class ContactIds(NamedTuple):
    """A batch's contacts, for the queries that read their URNs and groups: its `first` and `last` id, and the ids
    themselves (a list, or a subquery; None when the range holds hardly anyone else)."""

    first: int
    last: int
    ids: object

    @classmethod
    def of(cls, rows: list[tuple], ids) -> "ContactIds":
        first, last = rows[0][0], rows[-1][0]
        # A range read is one stretch of an index, cheaper than matching ids; but where the batch's contacts are
        # spread thin (a small group in a big workspace) the range alone would read everyone in between.
        return cls(first, last, None if last - first < 2 * len(rows) else ids)

    def lookup(self, field: str = "contact_id") -> dict:
        lookup: dict[str, object] = {f"{field}__gte": self.first, f"{field}__lte": self.last}
        if self.ids is not None:
            lookup[f"{field}__in"] = self.ids
        return lookup


def with_urns(rows: list[tuple], ids: ContactIds, with_groups: bool) -> list[Recipient]:
    """Contacts read as RECIPIENT_COLUMNS rows (in id order), with their URNs (and group names)."""
    urns: dict[int, list[RecipientURN]] = {row[0]: [] for row in rows}
    urn_rows = (
        ContactURN.objects.filter(**ids.lookup())
        .order_by("-priority", "id")
        .values_list("contact_id", "id", "scheme", "path", "identity", "priority", "channel_id")
    )
    for contact_id, *urn in urn_rows:
        if contact_id in urns:  # the range may hold a few contacts that aren't in the batch
            urns[contact_id].append(RecipientURN._make(urn))
    groups: dict[int, list[str]] | None = None
    if with_groups:
        groups = {row[0]: [] for row in rows}
        memberships = ContactGroup.contacts.through.objects.filter(**ids.lookup()).order_by("contactgroup_id")
        for contact_id, name in memberships.values_list("contact_id", "contactgroup__name"):
            if contact_id in groups:
                groups[contact_id].append(name)
    return [
        # A row is RECIPIENT_COLUMNS: the fields before `urns`.
        Recipient(*row, urns[row[0]], groups[row[0]] if groups is not None else None)  # type: ignore[call-arg]
        for row in rows
    ]


def create_batch(plan: BroadcastPlan, contact_ids: list[int]) -> set[int]:
    """Create the messages of these contacts (a batch, e.g. replayed after a crash); returns the channels that now
    have work."""
    rows = list(Contact.objects.filter(id__in=contact_ids).order_by("id").values_list(*RECIPIENT_COLUMNS))
    if not rows:
        return set()
    return channels_with_work(write_batch(plan, with_urns(rows, ContactIds.of(rows, contact_ids), plan.needs_groups)))


def write_batch(plan: BroadcastPlan, batch: list[Recipient]) -> list[NewMessage]:
    """Render and store one batch's messages, with the broadcast's progress; returns the messages it created (none
    for recipients that had theirs already)."""
    messages = [plan.new_message(recipient) for recipient in batch]
    broadcast_id = plan.broadcast.id
    now = timezone.now()
    with transaction.atomic():
        # Serialises the batches of one broadcast, so the "already has one" check and the progress stay exact.
        _lock(broadcast_id)
        # Asked by id range rather than by a list of ids: the batch is in id order.
        made = Msg.objects.filter(broadcast_id=broadcast_id, contact_id__gte=batch[0].id, contact_id__lte=batch[-1].id)
        done = set(made.values_list("contact_id", flat=True))
        new = [m for m in messages if m.contact_id not in done] if done else messages
        insert_messages(new, workspace_id=plan.workspace.id, broadcast_id=broadcast_id, created_on=now, modified_on=now)
        Broadcast.objects.filter(id=broadcast_id).update(
            msg_count=F("msg_count") + len(new),
            modified_on=now,
            status=Case(When(status=BroadcastStatus.QUEUED, then=Value(BroadcastStatus.STARTED)), default=F("status")),
            failures=0,  # the fan-out works: a failure of this attempt from now on is counted afresh
        )
    return new


def channels_with_work(messages: list[NewMessage]) -> set[int]:
    return {m.channel_id for m in messages if m.status == MsgStatus.QUEUED and m.channel_id}


def complete_if_done(broadcast: Broadcast, audience: Audience) -> bool:
    """Complete the broadcast if every recipient has a message; True if it is completed now."""
    with transaction.atomic():
        _lock(broadcast.id)
        current = Broadcast.objects.filter(id=broadcast.id).values("status", "msg_count", "contact_count").get()
        if current["status"] not in UNFINISHED:
            return current["status"] == BroadcastStatus.COMPLETED
        # The count is cheap and usually says "not yet"; the recipients themselves have the last word (the
        # audience may have changed since it was counted).
        if current["msg_count"] < (current["contact_count"] or 0) or _any_pending(broadcast, audience):
            return False
        _complete(broadcast.id)
        return True


def _lock(broadcast_id: int) -> None:
    list(Broadcast.objects.select_for_update().filter(id=broadcast_id).values_list("id"))


def _complete(broadcast_id: int) -> None:
    Broadcast.objects.filter(id=broadcast_id, status__in=UNFINISHED).update(
        status=BroadcastStatus.COMPLETED, modified_on=timezone.now(), failures=0
    )
