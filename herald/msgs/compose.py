"""Composing one recipient's message of a broadcast: the translation the contact gets, its templates rendered for
them, the channel and URN it goes by, why it fails when it can't be sent, and how many segments it costs.

The templates are parsed once per broadcast and language choice (`MessageComposer`), not once per contact, and a
contact's template values are only gathered when some template has an expression.
"""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from herald.channels.models import Channel
from herald.channels.routing import choose_route
from herald.contacts.contact_fields import workspace_types
from herald.contacts.models import ContactStatus
from herald.expressions import Template
from herald.expressions import parse as parse_template

from .batches import Recipient
from .content import QuickReply, candidate_languages
from .context import contact_context
from .models import Broadcast, FailedReason, Msg, MsgStatus
from .msg_rows import NewMessage
from .segments import count_segments


@dataclass
class CompiledContent:
    """One translation choice with its templates parsed: shared by every contact who gets that choice."""

    text: Template
    locale: str | None
    attachments: list[Template]
    quick_replies: list[tuple[QuickReply, Template | None]]  # [(quick reply dict, parsed text template or None)]
    personal: bool  # some template has an expression: render per contact


class MessageComposer:
    """What is worked out once per broadcast (its active channels, its templates parsed per language choice), and
    from it each recipient's message: rendered, routed, failed with a reason when it can't go, its segments counted."""

    def __init__(self, broadcast: Broadcast):
        self.broadcast = broadcast
        self.workspace = broadcast.workspace
        self.channels = list(Channel.objects.filter(workspace=self.workspace, is_active=True).order_by("created_on"))
        self._compiled: dict[tuple[str, ...], CompiledContent] = {}
        self.content = broadcast.content
        self.needs_groups = any("groups" in s for s in self.content.template_sources())
        self.field_types = workspace_types(self.workspace)
        self.zone = ZoneInfo(self.workspace.timezone)
        # Read once per batch: what `@globals.KEY` says is what globals.json held when the batch was composed.
        self.globals = self.workspace.global_values()

    def compiled_for(self, contact_language: str | None) -> CompiledContent:
        candidates = candidate_languages(contact_language, self.workspace.languages, self.broadcast.base_language)
        compiled = self._compiled.get(candidates)
        if compiled is None:
            content = self.content.for_contact(candidates)
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
                self.globals,
                anonymous=self.workspace.is_anonymous,
                field_types=self.field_types,
                zone=self.zone,
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


def rendered_length(text: str, quick_replies: list[QuickReply]) -> int:
    """What a message's templates made: its text and its quick replies' (each may repeat `@fields` lookups)."""
    return len(text) + sum(len(reply.get("text") or "") for reply in quick_replies)
