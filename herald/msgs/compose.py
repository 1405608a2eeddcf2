"""Composing one recipient's message, of a broadcast or sent on its own (`single.py`): the translation the contact
gets, its templates rendered for them, the channel and URN it goes by, why it fails when it can't be sent, and how
many segments it costs.

The templates are parsed once per broadcast and language choice (`MessageComposer`), not once per contact, and a
contact's template values are only gathered when some template has an expression.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from herald.channels.models import Channel, TemplateTranslation
from herald.channels.models import Template as MessageTemplate
from herald.channels.routing import Router
from herald.channels.templates import approved_translations
from herald.contacts.contact_fields import workspace_types
from herald.contacts.models import ContactStatus
from herald.expressions import Template
from herald.expressions import parse as parse_template
from herald.workspaces.models import Workspace

from .batches import Recipient
from .content import QuickReply, Translations, candidate_languages
from .context import contact_context
from .models import Broadcast, FailedReason, Msg, MsgStatus
from .msg_rows import NewMessage
from .segments import count_segments
from .windows import window_of


@dataclass(frozen=True)
class AsWritten:
    """A template that renders its source unchanged: what a single message's parts are (see `Composer`)."""

    source: str
    has_expressions: bool = False

    def render(self, context: object) -> str:
        return self.source


@dataclass
class CompiledContent:
    """One translation choice with its templates parsed: shared by every contact who gets that choice."""

    text: Template | AsWritten
    locale: str | None
    attachments: list[Template | AsWritten]
    quick_replies: list[
        tuple[QuickReply, Template | AsWritten | None]
    ]  # [(quick reply dict, parsed text template or None)]
    personal: bool  # some template has an expression: render per contact


class Composer:
    """What is worked out once per content (the workspace's active channels, the templates parsed per language
    choice), and from it each recipient's message: rendered, routed, failed with a reason when it can't go, its
    segments counted. `templates=False` sends the parts as written: RapidPro evaluates no expression in a single
    message (mailroom's `web/msg/send.go` creates it without an expressions context)."""

    def __init__(
        self,
        workspace: Workspace,
        content: Translations,
        base_language: str,
        *,
        templates: bool = True,
        message_template: MessageTemplate | None = None,
        template_variables: Sequence[str] = (),
    ):
        self.workspace = workspace
        self.content = content
        self.base_language = base_language
        self.template: Callable[[str], Template | AsWritten] = parse_template if templates else AsWritten
        self.channels = list(Channel.objects.filter(workspace=self.workspace, is_active=True).order_by("created_on"))
        # A provider template (WhatsApp's): where the message's channel has it approved, the message carries what
        # sending it as that template takes (`templating`); its variables are rendered like the text.
        self.message_template = message_template
        self.template_variables = [self.template(v) for v in template_variables]
        self.translations: dict[tuple[int, int], list[TemplateTranslation]] = (
            approved_translations({message_template.id}, {c.id for c in self.channels}) if message_template else {}
        )
        self.router = Router(self.channels)
        self._compiled: dict[tuple[str, ...], CompiledContent] = {}
        sources = [*self.content.template_sources(), *template_variables]
        self.needs_groups = templates and any("groups" in s for s in sources)

    # What templates read, loaded once per composer and only by one that renders a template.
    @cached_property
    def field_types(self) -> dict[str, str]:
        return workspace_types(self.workspace)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.workspace.timezone)

    @cached_property
    def globals(self) -> dict[str, str]:
        # Read once per batch: what `@globals.KEY` says is what globals.json held when the batch was composed.
        return self.workspace.global_values()

    def compiled_for(self, contact_language: str | None) -> CompiledContent:
        candidates = candidate_languages(contact_language, self.workspace.languages, self.base_language)
        compiled = self._compiled.get(candidates)
        if compiled is None:
            content = self.content.for_contact(candidates)
            template = self.template
            text = template(content.text)
            attachments = [template(a) for a in content.attachments]
            quick_replies = [(dict(qr), template(qr["text"]) if qr.get("text") else None)
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
            if compiled.personal or any(v.has_expressions for v in self.template_variables)
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

        route = self.router.route(recipient.urns)
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
            templating=self.templating(channel, (recipient.language, compiled.locale), context),
        )

    def templating(
        self, channel: Channel | None, languages: tuple[str | None, ...], context: dict[str, Any]
    ) -> dict[str, Any] | None:
        """What sending as the provider template takes on `channel`, or None (no template, or none approved there):
        the translation in the contact's language, else in the language of the text they get, else the oldest
        approved one, as mailroom picks it."""
        if self.message_template is None or channel is None:
            return None
        translations = self.translations.get((self.message_template.id, channel.id))
        if not translations:
            return None
        by_language = (t for lang in languages if lang for t in translations if t.locale.split("-")[0] == lang)
        chosen = next(by_language, translations[0])
        return {
            "template": {"uuid": str(self.message_template.uuid), "name": self.message_template.name},
            "language": chosen.external_locale,
            "namespace": chosen.namespace,
            "variables": [v.render(context) for v in self.template_variables],
        }


class MessageComposer(Composer):
    """A broadcast's composer: its content, in its languages, with its templates, and its send window."""

    def __init__(self, broadcast: Broadcast):
        super().__init__(
            broadcast.workspace,
            broadcast.content,
            broadcast.base_language,
            message_template=broadcast.template,
            template_variables=broadcast.template_variables or (),
        )
        self.broadcast = broadcast
        self.window = window_of(broadcast.send_window)


def rendered_length(text: str, quick_replies: list[QuickReply]) -> int:
    """What a message's templates made: its text and its quick replies' (each may repeat `@fields` lookups)."""
    return len(text) + sum(len(reply.get("text") or "") for reply in quick_replies)
