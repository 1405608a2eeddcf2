"""A channel's message templates, as its provider lists them, kept in Herald (`Template`, `TemplateTranslation`).

A type that has templates implements `ChannelType.fetch_templates(channel)`, answering `ProviderTemplate`s;
`sync_templates(kind, channel)` stores them: a template by name per workspace, its translations per channel and locale,
and it deletes the channel's translations the provider no longer lists (a template left with none stays, so a
broadcast that names it keeps its reference; it just can't be sent as the template any more).
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .base import ChannelType, ProviderTemplate
from .models import Channel, Template, TemplateStatus, TemplateTranslation


@dataclass(frozen=True)
class SyncResult:
    """What a sync found: every translation listed (name, locale, status) and how many were new or gone."""

    listed: list[ProviderTemplate]
    created: int
    deleted: int

    def summary(self) -> str:
        approved = sum(1 for t in self.listed if t.status == TemplateStatus.APPROVED)
        return (
            f"{len(self.listed)} templates found ({approved} approved, {self.created} new,"
            f" {self.deleted} no longer listed and removed)"
        )


def sync_templates(kind: ChannelType, channel: Channel) -> SyncResult:
    """Ask the channel's provider (`kind`, its type) for its templates and store them. Raises `ChannelConfigError`
    when the provider can't be asked (its words) or the type has no templates."""
    return store_templates(channel, kind.fetch_templates(channel))


@transaction.atomic
def store_templates(channel: Channel, listed: list[ProviderTemplate]) -> SyncResult:
    now = timezone.now()
    kept: list[int] = []
    created = 0
    for item in listed:
        template, _ = Template.objects.get_or_create(workspace_id=channel.workspace_id, name=item.name)
        values = {
            "external_locale": item.external_locale,
            "external_id": item.external_id,
            "namespace": item.namespace,
            "status": item.status,
            "components": item.components,
            "variables": item.variables,
        }
        translation, is_new = TemplateTranslation.objects.get_or_create(
            template=template, channel=channel, locale=item.locale, defaults=values
        )
        changed = not is_new and any(getattr(translation, k) != v for k, v in values.items())
        if changed:
            for key, value in values.items():
                setattr(translation, key, value)
            translation.save(update_fields=list(values))
        if is_new or changed:
            Template.objects.filter(id=template.id).update(modified_on=now)
        created += is_new
        kept.append(translation.id)
    gone = TemplateTranslation.objects.filter(channel=channel).exclude(id__in=kept)
    gone_templates = set(gone.values_list("template_id", flat=True))
    deleted, _ = gone.delete()
    Template.objects.filter(id__in=gone_templates).update(modified_on=now)
    return SyncResult(listed, created, deleted)


def approved_translations(
    template_ids: set[int], channel_ids: set[int]
) -> dict[tuple[int, int], list[TemplateTranslation]]:
    """The approved translations of these templates on these channels, by (template id, channel id), in the order a
    send prefers them when the contact's language has none: oldest first (one query)."""
    found: dict[tuple[int, int], list[TemplateTranslation]] = {}
    rows = TemplateTranslation.objects.filter(
        template_id__in=template_ids, channel_id__in=channel_ids, status=TemplateStatus.APPROVED
    ).order_by("id")
    for translation in rows:
        found.setdefault((translation.template_id, translation.channel_id), []).append(translation)
    return found
