"""What a broadcast would do if it were sent now, worked out without writing anything (`"dry_run": true`).

The same parts as the real fan-out (`fanout.py`): the audience walked in id order (`audience`), a batch at a time
(`batches.load_batch`), each recipient's message made by the same `Composer` (`compose`); the messages are counted
instead of inserted. Memory stays flat: only counters and the first few messages are kept.

URNs that no contact owns yet would become new contacts when the broadcast is sent: here they are recipients as
such a contact would be (active, no name, no language, the one URN), and nothing is created.
"""

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from herald.channels.models import Channel
from herald.channels.models import Template as MessageTemplate
from herald.contacts import urns as urn_utils
from herald.contacts.models import Contact, ContactGroup, ContactStatus, ContactURN
from herald.contacts.writes import TOP_PRIORITY
from herald.workspaces.models import Workspace
from herald.workspaces.send_window import SendWindow

from .audience import Audience
from .batches import Recipient, RecipientURN, load_batch
from .compose import Composer
from .content import Translations
from .exclusions import exclusion, figures, left_out
from .msg_rows import NewMessage
from .segments import is_gsm7
from .windows import opening_for

SAMPLE_SIZE = 10
# What the language split calls a message with no text (attachments only): ISO 639-2 "undetermined".
NO_LANGUAGE = "und"


@dataclass
class ChannelPlan:
    channel: Channel
    max_per_second: int | None = None
    messages: int = 0
    segments: int = 0  # what the channel's pace counts: SMS segments for tel URNs, 1 a message otherwise

    def as_json(self) -> dict[str, Any]:
        tps = self.channel.tps
        limits = [limit for limit in (tps, self.max_per_second) if limit]
        return {
            "uuid": str(self.channel.uuid),
            "name": self.channel.name,
            "tps": tps,
            "messages": self.messages,
            "segments": self.segments,
            # Delivery spaces the sends by their cost: a message of n segments keeps the next n / rate seconds
            # behind it, at the slower of the channel's tps and the broadcast's max_per_second (pacing.py).
            "estimated_seconds": round(self.segments / min(limits), 1) if limits else None,
        }


@dataclass
class Plan:
    """The counts of a dry run, filled in message by message."""

    anonymous: bool
    channels: dict[int, ChannelPlan]
    recipients: int = 0
    new_contacts: int = 0
    excluded: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    segments: Counter[str] = field(default_factory=Counter)
    sample: list[dict[str, Any]] = field(default_factory=list)

    def count(self, recipient: Recipient, message: NewMessage) -> None:
        self.recipients += 1
        reason = exclusion(message, recipient)
        if len(self.sample) < SAMPLE_SIZE:
            self.sample.append(self.sampled(recipient, message, reason))
        if reason is not None:
            self.excluded[reason] += 1
            return
        self.languages[message.locale or NO_LANGUAGE] += 1
        urn = urn_of(recipient, message)
        if urn is not None and urn.scheme == "tel":
            self.segments["gsm7" if is_gsm7(message.text) else "ucs2"] += message.msg_count
        if message.channel_id is not None:
            channel = self.channels[message.channel_id]
            channel.messages += 1
            channel.segments += message.msg_count

    def sampled(self, recipient: Recipient, message: NewMessage, reason: str | None) -> dict[str, Any]:
        urn = urn_of(recipient, message)
        return {
            "contact": {"uuid": str(recipient.uuid) if recipient.uuid else None, "name": recipient.name},
            # As messages.json shows it: never in an anonymous workspace.
            "urn": f"{urn.scheme}:{urn.path}" if urn is not None and not self.anonymous else None,
            "language": message.locale,
            "text": message.text,
            "attachments": message.attachments,
            "quick_replies": [reply.get("text") for reply in message.quick_replies],
            "excluded": reason,
            "templating": message.templating,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "recipients": self.recipients,
            "sendable": self.recipients - sum(self.excluded.values()),
            "new_contacts": self.new_contacts,
            "excluded": figures(self.excluded, {})["excluded"],
            "languages": dict(sorted(self.languages.items())),
            "segments": {
                "total": self.segments["gsm7"] + self.segments["ucs2"],
                "gsm7": self.segments["gsm7"],
                "ucs2": self.segments["ucs2"],
            },
            "channels": [plan.as_json() for plan in self.channels.values() if plan.messages],
            "sample": self.sample,
        }


def dry_run(
    workspace: Workspace,
    content: Translations,
    base_language: str,
    *,
    contacts: list[Contact],
    groups: list[ContactGroup],
    urns: list[str],
    window: SendWindow | None = None,
    send_at: datetime | None = None,
    max_per_second: int | None = None,
    message_template: MessageTemplate | None = None,
    template_variables: Sequence[str] = (),
) -> dict[str, Any]:
    """What sending this content to these recipients would do now (at `send_at` if given), as the dry run's answer;
    its `waiting_until` (a datetime) is when the messages would begin to go if `window` is closed then."""
    composer = Composer(
        workspace, content, base_language, message_template=message_template, template_variables=template_variables
    )
    audience, unowned = Audience.planned(workspace, contacts, groups, urns)
    plan = Plan(workspace.is_anonymous, {c.id: ChannelPlan(c, max_per_second) for c in composer.channels})
    plan.new_contacts = len(unowned)
    # The real fan-out's order: the direct recipients (existing ones, then those it creates, whose ids come after
    # every other), then the group members who weren't among them.
    for batch in batches(audience.direct, composer):
        _count(plan, composer, batch)
    _count(plan, composer, new_contacts(workspace, unowned, composer.needs_groups))
    direct = set(audience.direct_ids)
    for batch in batches(audience.members, composer):
        _count(plan, composer, [r for r in batch if r.id not in direct])
    answer = plan.as_json()
    answer["left_out"] = left_out(audience)
    answer["waiting_until"] = opening_for(window, send_at or timezone.now())
    return answer


def urn_of(recipient: Recipient, message: NewMessage) -> RecipientURN | None:
    """The URN the message goes (or would have gone) by."""
    if message.contact_urn_id is None:
        return None
    return next((u for u in recipient.urns if u.id == message.contact_urn_id), None)


def _count(plan: Plan, composer: Composer, batch: list[Recipient]) -> None:
    for recipient in batch:
        plan.count(recipient, composer.new_message(recipient))


def batches(part: Callable[[int], QuerySet[Contact]], composer: Composer) -> Iterator[list[Recipient]]:
    """The recipients of one part of an audience (`Audience.direct` or `.members`), a batch at a time (keyset)."""
    cursor = 0
    while batch := load_batch(part(cursor).order_by("id")[: settings.FANOUT_BATCH_SIZE], composer.needs_groups):
        yield batch
        cursor = batch[-1].id


def new_contacts(workspace: Workspace, urns: list[str], with_groups: bool) -> list[Recipient]:
    """The contacts the real send would create for `urns`, as recipients, not saved. A URN row left by a contact
    since deleted is taken over by the new one, with its channel affinity (`contacts.writes.set_urns`)."""
    parsed = [urn_utils.parse(text) for text in urns]
    rows = ContactURN.objects.filter(workspace=workspace, identity__in=[u.identity for u in parsed])
    known = {row[0]: row[1:] for row in rows.values_list("identity", "id", "channel_id")}
    now = timezone.now()
    recipients = []
    for urn in parsed:
        urn_id, channel_id = known.get(urn.identity, (0, None))
        urns_of = [RecipientURN(urn_id, urn.scheme, urn.path, urn.identity, TOP_PRIORITY, channel_id)]
        recipients.append(
            Recipient(0, None, None, None, ContactStatus.ACTIVE.value, {}, now, urns_of, [] if with_groups else None)
        )
    return recipients
