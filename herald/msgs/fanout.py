"""Turning a broadcast into one message per recipient.

Recipients are walked in contact-id order, a batch at a time, so memory stays flat however big the groups are.
Each batch commits atomically together with the broadcast's progress, under a lock on the broadcast row; the unique
(broadcast, contact) key and the "already has a message" check make a batch that runs twice create nothing twice,
and a crashed fan-out resumes after the highest contact id that already has its message.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Prefetch
from django.utils import timezone

from herald.channels.models import Channel
from herald.channels.routing import choose_route
from herald.contacts.models import Contact, ContactStatus, ContactURN
from herald.expressions import parse as parse_template

from .context import contact_context
from .languages import candidate_languages, choose_content
from .models import Broadcast, BroadcastStatus, FailedReason, Msg, MsgStatus
from .recipients import recipients
from .segments import count_segments

logger = logging.getLogger(__name__)

FINISHED = (BroadcastStatus.COMPLETED, BroadcastStatus.FAILED, BroadcastStatus.INTERRUPTED)


@dataclass
class CompiledContent:
    """One translation choice with its templates parsed: shared by every contact who gets that choice."""

    text: object
    locale: str | None
    attachments: list
    quick_replies: list  # [(quick reply dict, parsed text template or None)]


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
            compiled = CompiledContent(
                text=parse_template(content.text),
                locale=content.text_language,
                attachments=[parse_template(a) for a in content.attachments],
                quick_replies=[(dict(qr), parse_template(qr["text"]) if qr.get("text") else None)
                               for qr in content.quick_replies],
            )  # fmt: skip
            self._compiled[candidates] = compiled
        return compiled

    def build_message(self, contact: Contact, now) -> Msg:
        urns = list(contact.urns.all())
        compiled = self.compiled_for(contact.language)
        group_names = [g.name for g in contact.groups.all()] if self.needs_groups else None
        context = contact_context(contact, urns, group_names, self.workspace.globals)
        quick_replies = []
        for reply, template in compiled.quick_replies:
            rendered = dict(reply)  # a fresh copy per contact: never write one contact's values into another's
            if template is not None:
                rendered["text"] = template.render(context)
            quick_replies.append(rendered)
        msg = Msg(
            workspace_id=self.workspace.id,
            contact=contact,
            broadcast_id=self.broadcast.id,
            text=compiled.text.render(context),
            attachments=[a.render(context) for a in compiled.attachments],
            quick_replies=quick_replies,
            locale=compiled.locale,
            status=MsgStatus.QUEUED,
            created_on=now,
            modified_on=now,
        )
        route = choose_route(urns, self.channels)
        if route:
            msg.contact_urn, msg.channel = route
        if contact.status != ContactStatus.ACTIVE:
            msg.status, msg.failed_reason = MsgStatus.FAILED, FailedReason.CONTACT
        elif self.workspace.is_suspended:
            msg.status, msg.failed_reason = MsgStatus.FAILED, FailedReason.SUSPENDED
        elif route is None:
            msg.status, msg.failed_reason = MsgStatus.FAILED, FailedReason.NO_DESTINATION
        if msg.contact_urn is not None and msg.contact_urn.scheme == "tel":
            msg.msg_count = count_segments(msg.text) + len(msg.attachments)
        return msg


def fan_out(broadcast_id: int, on_batch=None) -> None:
    """Create every recipient's message. `on_batch(channel_ids)` runs after each batch commits."""
    broadcast = Broadcast.objects.select_related("workspace").get(id=broadcast_id)
    if broadcast.status in FINISHED:
        return
    audience = recipients(broadcast)
    if broadcast.status == BroadcastStatus.PENDING:
        count = audience.count()
        Broadcast.objects.filter(id=broadcast.id, status=BroadcastStatus.PENDING).update(
            status=BroadcastStatus.QUEUED, contact_count=count, modified_on=timezone.now()
        )
    plan = BroadcastPlan(broadcast)
    after = Msg.objects.filter(broadcast_id=broadcast.id).aggregate(last=Max("contact_id"))["last"] or 0
    batch_size = settings.FANOUT_BATCH_SIZE
    while True:
        ids = list(audience.filter(id__gt=after).order_by("id").values_list("id", flat=True)[:batch_size])
        if not ids:
            break
        channel_ids = create_batch(plan, ids)
        if on_batch and channel_ids:
            on_batch(channel_ids)
        after = ids[-1]
    Broadcast.objects.filter(id=broadcast.id, status__in=[BroadcastStatus.QUEUED, BroadcastStatus.STARTED]).update(
        status=BroadcastStatus.COMPLETED, modified_on=timezone.now()
    )


def create_batch(plan: BroadcastPlan, contact_ids: list[int]) -> set[int]:
    """Create the messages of one batch of recipients; returns the channels that now have work."""
    prefetch = [Prefetch("urns", queryset=ContactURN.objects.order_by("-priority", "id"))]
    if plan.needs_groups:
        prefetch.append("groups")
    now = timezone.now()
    contacts = Contact.objects.filter(id__in=contact_ids).prefetch_related(*prefetch)
    messages = [plan.build_message(contact, now) for contact in contacts]
    broadcast_id = plan.broadcast.id
    with transaction.atomic():
        # Serialises batches of one broadcast, so the "already sent" check and the progress count stay exact.
        list(Broadcast.objects.select_for_update().filter(id=broadcast_id).values_list("id"))
        done = set(
            Msg.objects.filter(broadcast_id=broadcast_id, contact_id__in=contact_ids).values_list(
                "contact_id", flat=True
            )
        )
        new = [m for m in messages if m.contact_id not in done]
        Msg.objects.bulk_create(new, batch_size=500)
        Broadcast.objects.filter(id=broadcast_id).update(msg_count=F("msg_count") + len(new), modified_on=now)
        Broadcast.objects.filter(id=broadcast_id, status=BroadcastStatus.QUEUED).update(status=BroadcastStatus.STARTED)
    return {m.channel_id for m in new if m.status == MsgStatus.QUEUED and m.channel_id}
