"""`/api/v2/templates.json`: the providers' message templates (WhatsApp's) your channels have, in the shape RapidPro's
templates endpoint had (temba/api/v2/serializers.py `TemplateReadSerializer`, translations as
temba/api/internal/serializers.py gives them: channel, namespace, locale, status, components, variables)."""

from django.db.models import Exists, OuterRef, Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers

from herald.api.v2 import openapi
from herald.api.v2.base import BaseEndpoint, ListAPIMixin
from herald.api.v2.filters import Filter, modified_between
from herald.api.v2.pagination import ModifiedOnCursorPagination
from herald.api.v2.params import bool_param, text_param, uuid_param
from herald.api.v2.permissions import ADMIN_EDITOR
from herald.api.v2.serializer_fields import DateTimeField
from herald.channels.models import Template, TemplateStatus, TemplateTranslation

TRANSLATIONS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "channel": {
                "type": "object",
                "properties": {"uuid": {"type": "string", "format": "uuid"}, "name": {"type": "string"}},
            },
            "locale": {"type": "string", "description": "ISO-639-3 language, a dash and the country, e.g. eng-US"},
            "namespace": {"type": "string"},
            "status": {
                "type": "string",
                "enum": TemplateStatus.values,
            },
            "components": {"type": "array", "items": {"type": "object"}},
            "variables": {"type": "array", "items": {"type": "object"}},
        },
    },
}


class TemplateReadSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    name = serializers.CharField()
    translations = serializers.SerializerMethodField()
    created_on = DateTimeField()
    modified_on = DateTimeField()

    @extend_schema_field(TRANSLATIONS_SCHEMA)
    def get_translations(self, template) -> list[dict]:
        return [
            {
                "channel": {"uuid": str(t.channel.uuid), "name": t.channel.name},
                "locale": t.locale,
                "namespace": t.namespace,
                "status": t.status,
                "components": t.components,
                "variables": t.variables,
            }
            for t in template.translations.all()
        ]


@extend_schema_view(
    get=extend_schema(
        summary="List message templates",
        responses={200: TemplateReadSerializer(many=True), 400: openapi.BAD_REQUEST, **openapi.COMMON_ERRORS},
    ),
)
class TemplatesEndpoint(ListAPIMixin, BaseEndpoint):
    """List the message templates your channels' providers approved (or still review), most recently changed first.

    Its documentation page is `api/v2/docs/templates.md`."""

    endpoint_name = "templates"
    title = "Message templates"
    roles = {"GET": ADMIN_EDITOR}
    serializer_class = TemplateReadSerializer
    pagination_class = ModifiedOnCursorPagination
    list_filters = [
        Filter("uuid", uuid_param, "uuid", "The template with this UUID"),
        Filter("name", text_param, "name", "The template with this name, exactly"),
        *modified_between("templates"),
        # Read by the pagination (ModifiedOnCursorPagination).
        Filter("reverse", bool_param, None, "`true` lists the oldest modified first"),
    ]

    def get_queryset(self):
        # A template no channel lists any more (its translations all gone at a sync) is left out, as RapidPro does.
        translations = TemplateTranslation.objects.select_related("channel").order_by("locale", "channel_id")
        return (
            Template.objects.filter(workspace=self.workspace)
            .filter(Exists(TemplateTranslation.objects.filter(template=OuterRef("pk"))))
            .prefetch_related(Prefetch("translations", translations))
        )
