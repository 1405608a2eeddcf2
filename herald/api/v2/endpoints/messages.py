"""`/api/v2/messages.json`: list messages, e.g. those a broadcast created (`?broadcast=`)."""

import uuid

from django.db.models import Q
from django.db.models.functions import Coalesce
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers

from herald.api.v2 import openapi
from herald.api.v2.base import BaseEndpoint, ListAPIMixin
from herald.api.v2.content_fields import QUICK_REPLIES_SCHEMA
from herald.api.v2.filters import NOTHING, Filter, created_between
from herald.api.v2.pagination import CreatedOnCursorPagination
from herald.api.v2.params import InvalidParam, int_param, text_param, uuid_param
from herald.api.v2.permissions import ADMIN_EDITOR
from herald.api.v2.serializer_fields import DateTimeField, ObjectRefSerializer
from herald.contacts.urns import URN
from herald.msgs.models import Msg, MsgFolder, MsgStatus, MsgVisibility

# The API shows pending, initializing and queued all as "queued".
STATUS_NAMES = {**{s.value: s.label for s in MsgStatus}, MsgStatus.PENDING: "queued", MsgStatus.INITIALIZING: "queued"}


class MsgReadSerializer(serializers.ModelSerializer):
    """A message as GET lists it."""

    contact = ObjectRefSerializer(allow_null=True, read_only=True)
    urn = serializers.SerializerMethodField()
    channel = ObjectRefSerializer(allow_null=True, read_only=True)
    direction = serializers.CharField(source="get_direction_display")
    type = serializers.CharField(source="get_msg_type_display")
    status = serializers.SerializerMethodField()
    archived = serializers.SerializerMethodField()
    visibility = serializers.CharField(source="get_visibility_display")
    labels = serializers.SerializerMethodField()
    flow = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    quick_replies = serializers.SerializerMethodField()
    created_on = DateTimeField(read_only=True)
    sent_on = DateTimeField(allow_null=True, read_only=True)
    modified_on = DateTimeField(read_only=True)
    media = serializers.SerializerMethodField()
    broadcast = serializers.IntegerField(source="broadcast_id", allow_null=True)

    class Meta:
        model = Msg
        fields = (
            "uuid",
            "contact",
            "urn",
            "channel",
            "direction",
            "type",
            "status",
            "archived",
            "visibility",
            "text",
            "labels",
            "flow",
            "attachments",
            "quick_replies",
            "created_on",
            "sent_on",
            "modified_on",
            "media",
            "id",
            "broadcast",
        )

    @extend_schema_field({"type": "string", "nullable": True})
    def get_urn(self, msg):
        if msg.contact_urn is None or self.context["workspace"].is_anonymous:
            return None
        urn = msg.contact_urn
        return str(URN(urn.scheme, urn.path, display=urn.display or ""))

    @extend_schema_field({"type": "string", "enum": sorted(set(STATUS_NAMES.values()))})
    def get_status(self, msg) -> str:
        return STATUS_NAMES[msg.status]

    def get_archived(self, msg) -> bool:
        return msg.visibility == MsgVisibility.ARCHIVED

    @extend_schema_field(ObjectRefSerializer(many=True))
    def get_labels(self, msg) -> list:
        return []  # Herald has no message labels

    @extend_schema_field(ObjectRefSerializer(allow_null=True))
    def get_flow(self, msg):
        return None  # Herald runs no flows

    @extend_schema_field(
        {
            "type": "array",
            "items": {"type": "object", "properties": {"content_type": {"type": "string"}, "url": {"type": "string"}}},
        }
    )
    def get_attachments(self, msg) -> list:
        return [dict(zip(("content_type", "url"), a.split(":", 1), strict=False)) for a in msg.attachments]

    @extend_schema_field(QUICK_REPLIES_SCHEMA)
    def get_quick_replies(self, msg) -> list:
        return msg.quick_replies

    @extend_schema_field({"type": "string", "nullable": True, "description": "deprecated: the first attachment"})
    def get_media(self, msg):
        return msg.attachments[0] if msg.attachments else None


class MessagesPagination(CreatedOnCursorPagination):
    """Newest first; the `sent` folder is ordered by when messages were sent."""

    def get_ordering(self, request, queryset, view):
        if request.query_params.get("folder", "").lower() == "sent":
            # Coalesced so a sent message without sent_on can't break the cursor (None is no position).
            return ("-sent_order", "-id")
        return self.ordering


def broadcast_filter(view, value: str) -> Q:
    """`?broadcast=` takes the integer id (as RapidPro) or the broadcast's UUID (docs/COMPATIBILITY.md, C7)."""
    if value.isascii() and value.isdigit():
        number = int(value)
        return Q(broadcast_id=number) if number < 2**63 else NOTHING
    try:
        return Q(broadcast__uuid=uuid.UUID(value))
    except ValueError:
        raise InvalidParam(f"Param 'broadcast': {value} is not a broadcast id or UUID.") from None


def contact_filter(view, value: str) -> Q:
    try:
        return Q(contact__uuid=uuid.UUID(value))
    except ValueError:
        return NOTHING  # an invalid UUID matches nothing, as in RapidPro


@extend_schema_view(
    get=extend_schema(
        summary="List messages",
        responses={
            200: MsgReadSerializer(many=True),
            400: OpenApiResponse(openapi.DETAIL, description="A bad filter"),
            404: OpenApiResponse(openapi.DETAIL, description='`{"detail": "Invalid cursor"}`'),
            **openapi.COMMON_ERRORS,
        },
    )
)
class MessagesEndpoint(ListAPIMixin, BaseEndpoint):
    """List the messages of your workspace, for example the ones a broadcast created.

    Its documentation page is `api/v2/docs/messages.md`."""

    endpoint_name = "messages"
    title = "List messages"
    roles = {"GET": ADMIN_EDITOR}
    throttle_scope = "v2.messages"
    serializer_class = MsgReadSerializer
    pagination_class = MessagesPagination

    def get_queryset(self):
        return Msg.objects.filter(workspace=self.workspace)

    list_filters = [
        Filter("uuid", uuid_param, "uuid", "Only the message with this UUID."),
        Filter("id", int_param, "id", "Deprecated: only the message with this integer id."),
        Filter("broadcast", text_param, broadcast_filter, "Only messages of this broadcast (id or UUID)."),
        Filter("contact", text_param, contact_filter, "Only messages of this contact.", schema_type=OpenApiTypes.UUID),
        # Applied below with the default it has when absent, and the order `sent` lists in.
        Filter(
            "folder",
            text_param,
            None,
            "Only messages in this folder (case-insensitive); an unknown folder lists nothing.",
            enum=tuple(MsgFolder.values),
        ),
        Filter("label", text_param, lambda view, label: NOTHING, "Only messages with this label (Herald has none)."),
        *created_between("messages"),
    ]
    exclusive_filters = ["contact", "folder", "label", "broadcast"]

    def filter_queryset(self, queryset):
        params = self.request.query_params
        folder = params.get("folder", "").lower()
        if folder:
            queryset = queryset.in_folder(folder)
        else:
            listed = [MsgVisibility.VISIBLE, MsgVisibility.ARCHIVED]
            queryset = queryset.filter(visibility__in=listed).exclude(status=MsgStatus.PENDING)
        if folder == MsgFolder.SENT:
            queryset = queryset.annotate(sent_order=Coalesce("sent_on", "created_on"))

        return super().filter_queryset(queryset).select_related("contact", "contact_urn", "channel")
