"""`/api/v2/broadcasts.json`: list broadcasts (GET) and send a new one (POST)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers

from herald.contacts import urns as urn_parser
from herald.msgs.models import Broadcast, BroadcastStatus
from herald.msgs.tasks import enqueue_broadcast

from . import openapi
from . import translations as translations_module
from .base import BaseEndpoint, ListAPIMixin, WriteAPIMixin
from .fields import ContactRefsField, GroupRefsField, LanguageField, URNField
from .formats import format_datetime
from .params import InvalidParam, datetime_param, int_param, uuid_param
from .permissions import ADMIN_EDITOR
from .translations import TranslatedAttachmentsField, TranslatedQuickRepliesField, TranslatedTextField

MAX_URNS = 100

REF_LIST_OUT = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"uuid": {"type": "string", "format": "uuid"}, "name": {"type": "string", "nullable": True}},
    },
}
PROGRESS_OUT = {
    "type": "object",
    "properties": {
        "total": {"type": "integer", "description": "recipients counted, -1 until they are"},
        "started": {"type": "integer", "description": "messages created so far"},
    },
}


class BroadcastReadSerializer(serializers.ModelSerializer):
    """A broadcast as GET lists it (and as POST answers it)."""

    status = serializers.CharField(source="get_status_display")
    progress = serializers.SerializerMethodField()
    urns = serializers.SerializerMethodField()
    contacts = serializers.SerializerMethodField()
    groups = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    quick_replies = serializers.SerializerMethodField()
    created_on = serializers.SerializerMethodField()

    class Meta:
        model = Broadcast
        fields = (
            "uuid",
            "status",
            "progress",
            "urns",
            "contacts",
            "groups",
            "text",
            "attachments",
            "quick_replies",
            "base_language",
            "created_on",
            "id",
        )

    def to_representation(self, broadcast):
        # Built directly rather than field by field: a 250-item page is the API's hottest path.
        if not hasattr(broadcast, "contact_refs"):
            attach_recipient_refs([broadcast])
        translations = broadcast.translations
        return {
            "uuid": str(broadcast.uuid),
            "status": STATUS_NAMES[broadcast.status],
            "progress": self.get_progress(broadcast),
            "urns": self.get_urns(broadcast),
            "contacts": broadcast.contact_refs,
            "groups": broadcast.group_refs,
            "text": translations_module.text_by_language(translations),
            "attachments": translations_module.attachments_by_language(translations),
            "quick_replies": translations_module.quick_replies_by_language(translations),
            "base_language": broadcast.base_language,
            "created_on": format_datetime(broadcast.created_on),
            "id": broadcast.id,
        }

    # The methods below describe each field for the OpenAPI schema; to_representation produces the values.

    @extend_schema_field(PROGRESS_OUT)
    def get_progress(self, broadcast) -> dict:
        total = broadcast.contact_count if broadcast.contact_count is not None else -1
        return {"total": total, "started": broadcast.msg_count}

    @extend_schema_field({"type": "array", "items": {"type": "string"}, "nullable": True})
    def get_urns(self, broadcast):
        # Anonymous workspaces never reveal addresses.
        return None if self.context["workspace"].is_anonymous else list(broadcast.urns)

    @extend_schema_field(REF_LIST_OUT)
    def get_contacts(self, broadcast) -> list:
        return broadcast.contact_refs

    @extend_schema_field(REF_LIST_OUT)
    def get_groups(self, broadcast) -> list:
        return broadcast.group_refs

    @extend_schema_field(translations_module.TRANSLATED_TEXT_OUT)
    def get_text(self, broadcast) -> dict:
        return translations_module.text_by_language(broadcast.translations)

    @extend_schema_field(translations_module.TRANSLATED_ATTACHMENTS_OUT)
    def get_attachments(self, broadcast) -> dict:
        return translations_module.attachments_by_language(broadcast.translations)

    @extend_schema_field(translations_module.TRANSLATED_QUICK_REPLIES_OUT)
    def get_quick_replies(self, broadcast) -> dict:
        return translations_module.quick_replies_by_language(broadcast.translations)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_created_on(self, broadcast) -> str | None:
        return format_datetime(broadcast.created_on)


STATUS_NAMES = dict(BroadcastStatus.choices)


def attach_recipient_refs(broadcasts: list[Broadcast]) -> None:
    """Set `contact_refs` and `group_refs` (`{uuid, name}` lists, by id) on each broadcast: two queries in all."""
    by_id = {b.id: b for b in broadcasts}
    for b in broadcasts:
        b.contact_refs, b.group_refs = [], []
    contact_rows = (
        Broadcast.contacts.through.objects.filter(broadcast_id__in=by_id)
        .order_by("contact_id")
        .values_list("broadcast_id", "contact__uuid", "contact__name")
    )
    for broadcast_id, uuid, name in contact_rows:
        by_id[broadcast_id].contact_refs.append({"uuid": str(uuid), "name": name})
    group_rows = (
        Broadcast.groups.through.objects.filter(broadcast_id__in=by_id)
        .order_by("contactgroup_id")
        .values_list("broadcast_id", "contactgroup__uuid", "contactgroup__name")
    )
    for broadcast_id, uuid, name in group_rows:
        by_id[broadcast_id].group_refs.append({"uuid": str(uuid), "name": name})


class BroadcastWriteSerializer(serializers.Serializer):
    """The POST body: recipients, content in one or more languages, and optionally its base language."""

    urns = serializers.ListField(child=URNField(), max_length=MAX_URNS, required=False)
    contacts = ContactRefsField(required=False)
    groups = GroupRefsField(required=False)
    text = TranslatedTextField(required=False)
    attachments = TranslatedAttachmentsField(required=False)
    quick_replies = TranslatedQuickRepliesField(required=False)
    base_language = LanguageField(required=False)

    def validate_urns(self, value):
        # Two spellings of one address (`tel:0788 123 123`, `tel:+250788123123`) are one recipient.
        unique = {}
        for urn in value:
            unique.setdefault(urn_parser.parse(urn).identity, urn)
        return list(unique.values())

    def validate(self, data):
        # Only the first failing rule is reported, in RapidPro's order.
        text = data.get("text")
        attachments = data.get("attachments")
        quick_replies = data.get("quick_replies")
        # Unlike RapidPro, attachments that are all empty lists are no content (docs/COMPATIBILITY.md, C4).
        if not text and not any((attachments or {}).values()):
            raise serializers.ValidationError("Must provide either text or attachments.")
        if not (data.get("urns") or data.get("contacts") or data.get("groups")):
            raise serializers.ValidationError("Must provide either urns, contacts or groups.")

        base = data.get("base_language")
        if base:
            # An attachments-only broadcast (no text at all) is valid: RapidPro's 500 here becomes the usual checks
            # (docs/COMPATIBILITY.md, C1).
            if text is not None and base not in text:
                raise serializers.ValidationError("No text translation provided in base language.")
            if attachments is not None and base not in attachments:
                raise serializers.ValidationError("No attachment translations provided in base language.")
            if quick_replies is not None and base not in quick_replies:
                raise serializers.ValidationError("No quick_replies translations provided in base language.")
        return data

    def create(self, data):
        content = translations_module.build_translations(
            data.get("text"), data.get("attachments"), data.get("quick_replies")
        )
        broadcast = Broadcast.objects.create(
            workspace=self.context["workspace"],
            status=BroadcastStatus.PENDING,
            translations=content,
            base_language=data.get("base_language") or default_base_language(data),
            urns=data.get("urns", []),
            created_by=self.context["user"],
        )
        broadcast.contacts.set(data.get("contacts", []))
        broadcast.groups.set(data.get("groups", []))
        return broadcast


def default_base_language(data) -> str:
    """The first text language; failing that, the first language that has attachments.

    RapidPro takes the first language of the merged translations, which can be one with an empty attachment list
    and so nothing to fall back to (docs/COMPATIBILITY.md, C5).
    """
    if data.get("text"):
        return next(iter(data["text"]))
    return next(lang for lang, media in data["attachments"].items() if media)


CANT_CHANGE = "Broadcasts can't be changed once created: POST without ?uuid= to create a new one."

ERROR_400 = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Invalid request: field errors keyed by field (and by language or index inside them), rules "
    "broken by the whole body under `non_field_errors`, query-string errors under `detail`.",
    examples=[
        OpenApiExample("No recipients", value={"non_field_errors": ["Must provide either urns, contacts or groups."]}),
        OpenApiExample("Unknown group", value={"groups": ["No such object: Reporters"]}),
        OpenApiExample("Blank text", value={"text": {"eng": ["This field may not be blank."]}}),
        OpenApiExample("Broadcasts are immutable", value={"detail": CANT_CHANGE}),
    ],
)
BAD_FILTER = OpenApiResponse(openapi.DETAIL, description="A bad filter, e.g. `before` that is not a datetime")
INVALID_CURSOR = OpenApiResponse(openapi.DETAIL, description='`{"detail": "Invalid cursor"}`')

LIST_PARAMS = [
    OpenApiParameter("uuid", OpenApiTypes.UUID, description="Only the broadcast with this UUID."),
    OpenApiParameter("id", OpenApiTypes.INT, description="Deprecated: only the broadcast with this integer id."),
    OpenApiParameter("before", OpenApiTypes.DATETIME, description="Only broadcasts created on or before this time."),
    OpenApiParameter("after", OpenApiTypes.DATETIME, description="Only broadcasts created on or after this time."),
]


@extend_schema_view(
    get=extend_schema(
        summary="List broadcasts",
        parameters=LIST_PARAMS,
        responses={
            200: BroadcastReadSerializer(many=True),
            400: BAD_FILTER,
            404: INVALID_CURSOR,
            **openapi.COMMON_ERRORS,
        },
    ),
    post=extend_schema(
        summary="Send a broadcast",
        request=BroadcastWriteSerializer,
        examples=[
            OpenApiExample(
                "Hello to one number",
                value={"urns": ["tel:+250788123123"], "text": {"eng": "Hello @contact.name!", "fra": "Bonjour !"}},
                request_only=True,
            )
        ],
        responses={
            201: BroadcastReadSerializer,
            400: ERROR_400,
            404: OpenApiResponse(openapi.DETAIL, description="`?uuid=` names no broadcast of your workspace"),
            **openapi.COMMON_ERRORS,
        },
    ),
)
class BroadcastsEndpoint(ListAPIMixin, WriteAPIMixin, BaseEndpoint):
    """
    Send a message, in one or more languages, to URNs, contacts and whole groups, and list what you sent.

    ## Listing broadcasts

    `GET /api/v2/broadcasts.json` returns the broadcasts of your workspace, newest first, 250 a page (follow
    `next` until it is `null`). Filters:

     * **uuid** - only the broadcast with this UUID
     * **id** - deprecated: only the broadcast with this integer id
     * **before** - only broadcasts created on or before this date, e.g. `2024-01-28T18:00:00.000Z`
     * **after** - only broadcasts created on or after this date

    Each broadcast has, in this order:

     * **uuid** - the UUID of the broadcast (string)
     * **status** - `pending`, `queued`, `started`, `completed`, `failed` or `interrupted` (string)
     * **progress** - `total`: the number of recipients, `-1` until they are counted; `started`: the messages
       created so far (object)
     * **urns** - the URNs it was addressed to; `null` in an anonymous workspace (array of strings)
     * **contacts** - the contacts it was addressed to (array of `{uuid, name}`)
     * **groups** - the groups it was addressed to (array of `{uuid, name}`)
     * **text** - the text per language; `null` for a language that has only attachments or quick replies (object)
     * **attachments** - the attachments per language, as `content-type:url` strings (object of arrays)
     * **quick_replies** - the quick replies per language (object of arrays of `{type, text, extra}`)
     * **base_language** - the language used when a contact's language has no translation (string)
     * **created_on** - when it was created (datetime)
     * **id** - deprecated integer id (int)

    Example:

        GET /api/v2/broadcasts.json

        {
            "next": "https://herald.example.com/api/v2/broadcasts.json?cursor=cD0yMDI0LTA1...",
            "previous": null,
            "results": [
                {
                    "uuid": "0199bb98-3637-778d-9dfc-0ab85c950d7c",
                    "status": "completed",
                    "progress": {"total": 2, "started": 2},
                    "urns": ["tel:+250788123123"],
                    "contacts": [{"uuid": "09d23a05-47fe-11e4-bfe9-b8f6b119e9ab", "name": "Joe"}],
                    "groups": [],
                    "text": {"eng": "Hello @contact.name!", "fra": "Bonjour @contact.name!"},
                    "attachments": {"eng": [], "fra": []},
                    "quick_replies": {"eng": [], "fra": []},
                    "base_language": "eng",
                    "created_on": "2024-05-01T10:00:00.123456Z",
                    "id": 1234
                }
            ]
        }

    ## Sending a broadcast

    `POST /api/v2/broadcasts.json` with a JSON object:

     * **urns** - up to 100 URNs, e.g. `tel:+250788123123` (array of strings, optional)
     * **contacts** - up to 100 contact UUIDs (or URNs of existing contacts, except in anonymous workspaces)
       (array of strings, optional)
     * **groups** - up to 100 group UUIDs or names (array of strings, optional)
     * **text** - the text per language, up to 4096 characters each; a bare string goes to the workspace's
       primary language. `@contact.name`-style expressions are filled in for each contact (object, optional)
     * **attachments** - up to 10 media UUIDs per language, from POSTing to `media.json`; a bare list goes to the
       primary language (object, optional)
     * **quick_replies** - up to 10 quick replies per language, each `{"text": "Yes"}`, or with a `type` of
       `text`, `form`, `url` or `location` and an optional `extra` (object, optional)
     * **base_language** - the language to fall back to; defaults to the first language of `text` (string,
       optional)

    You must give `text` or `attachments`, and at least one of `urns`, `contacts` or `groups`. A recipient named
    twice (the same contact, or two spellings of one phone number) gets one message. The answer is **201** with
    the new broadcast as listed above, `status` `pending`; messages are then created and sent in the background.

    In an anonymous workspace, URNs in message text render masked (`@contact.urn` gives `tel:********`; only the
    channel gets the real address), `urns` are accepted and answered the same whether or not a contact has them,
    and URNs in `contacts` are refused: `{"contacts": ["URN lookups not allowed for anonymous organizations"]}`.

    Example:

        POST /api/v2/broadcasts.json
        {
            "urns": ["tel:+250788123123", "tel:+250788123124"],
            "contacts": ["09d23a05-47fe-11e4-bfe9-b8f6b119e9ab"],
            "groups": ["5f05311e-8f81-4a67-a5b5-1501b6d6496a"],
            "text": {"eng": "Hello @contact.name! Burger or pizza?", "spa": "Hola @contact.name!"},
            "attachments": {"eng": ["fdd156ca-233a-48c1-896d-a9d594d59b95"]},
            "quick_replies": {"eng": [{"text": "Burger", "extra": "With cheese"}, {"text": "Pizza"}]},
            "base_language": "eng"
        }

    ## Errors

    Invalid bodies get **400** with the problems keyed by field, e.g.
    `{"groups": ["No such object: Reporters"]}`, `{"text": {"eng": ["This field may not be blank."]}}`,
    `{"urns": {"0": ["Invalid URN: foo:bar. Ensure phone numbers contain country codes."]}}`, or, once every field
    is valid, one rule about the whole body such as
    `{"non_field_errors": ["Must provide either text or attachments."]}`. Broadcasts can't be edited or deleted:
    `POST` with `?uuid=` is a 400 and `DELETE` a 405.
    """

    endpoint_name = "broadcasts"
    title = "Send and list broadcasts"
    roles = {"GET": ADMIN_EDITOR, "POST": ADMIN_EDITOR}
    throttle_scope = "v2"
    serializer_class = BroadcastReadSerializer
    write_serializer_class = BroadcastWriteSerializer

    def get_queryset(self):
        return Broadcast.objects.filter(workspace=self.workspace, is_active=True)

    def filter_queryset(self, queryset):
        request = self.request
        if uuid := uuid_param(request):
            queryset = queryset.filter(uuid=uuid)
        if id_ := int_param(request, "id"):
            queryset = queryset.filter(id=id_)
        if before := datetime_param(request, "before"):
            queryset = queryset.filter(created_on__lte=before)
        if after := datetime_param(request, "after"):
            queryset = queryset.filter(created_on__gte=after)
        return queryset

    def prepare_page(self, page):
        attach_recipient_refs(page)

    def get_lookup_object(self):
        # RapidPro silently creates a copy when POSTed `?uuid=<existing>`; broadcasts are immutable, so say so
        # (docs/COMPATIBILITY.md, C8).
        if super().get_lookup_object() is not None:
            raise InvalidParam(CANT_CHANGE)
        return None

    def after_write(self, broadcast, created: bool) -> None:
        enqueue_broadcast(broadcast.id)
