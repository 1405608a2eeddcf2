"""`/api/v2/messages.json`: list messages, e.g. those a broadcast created (`?broadcast=`), and send one message to
one contact (POST)."""

import uuid

from django.db.models import Q
from django.db.models.functions import Coalesce
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers

from herald.api.v2 import openapi
from herald.api.v2.base import BaseEndpoint, ListAPIMixin, WriteAPIMixin
from herald.api.v2.content_fields import QUICK_REPLIES_SCHEMA, MediaListField, QuickReplySerializer
from herald.api.v2.filters import NOTHING, Filter, created_between
from herald.api.v2.pagination import CreatedOnCursorPagination
from herald.api.v2.params import InvalidParam, int_param, text_param, uuid_param
from herald.api.v2.permissions import ADMIN_EDITOR
from herald.api.v2.serializer_fields import ContactRefsField, DateTimeField, ObjectRefSerializer
from herald.contacts.models import ContactStatus
from herald.contacts.urns import URN
from herald.msgs.models import Broadcast, FailedReason, Msg, MsgFolder, MsgStatus, MsgVisibility
from herald.msgs.single import send_message, with_relations

# The API shows pending, initializing and queued all as "queued"; a paused broadcast's held messages as what they
# were, queued or errored (docs/COMPATIBILITY.md, C47).
STATUS_NAMES = {
    **{s.value: s.label for s in MsgStatus},
    MsgStatus.PENDING: "queued",
    MsgStatus.INITIALIZING: "queued",
    MsgStatus.HELD_QUEUED: "queued",
    MsgStatus.HELD_ERRORED: "errored",
}
# What `?status=` takes: each name `status` shows, and the stored statuses it stands for.
STATUS_CODES: dict[str, tuple[str, ...]] = {
    name: tuple(code for code, shown in STATUS_NAMES.items() if shown == name) for name in STATUS_NAMES.values()
}
# `failed_reason` as the API names it: the reason's own name in lower case (`no_destination`, `retries`, ...), so a
# new reason is named the day it is added; PERMANENT is named for what happened, as a sender reads it.
FAILED_REASON_NAMES = {reason.value: reason.name.lower() for reason in FailedReason} | {
    FailedReason.PERMANENT.value: "refused"
}


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
    # Herald's, after RapidPro's fields (docs/COMPATIBILITY.md, C44).
    failed_reason = serializers.SerializerMethodField()
    failed_detail = serializers.SerializerMethodField()

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
            "failed_reason",
            "failed_detail",
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

    @extend_schema_field(
        {
            "type": "string",
            "nullable": True,
            "enum": [*sorted(FAILED_REASON_NAMES.values()), None],
            "description": "why the message failed; null unless its status is `failed`",
        }
    )
    def get_failed_reason(self, msg):
        if msg.status != MsgStatus.FAILED or msg.failed_reason is None:
            return None
        return FAILED_REASON_NAMES[msg.failed_reason]

    @extend_schema_field(
        {
            "type": "string",
            "nullable": True,
            "description": "what went wrong, for a person to read (the gateway's answer when there was one); null "
            "unless its status is `failed`",
        }
    )
    def get_failed_detail(self, msg):
        if msg.status != MsgStatus.FAILED:
            return None
        # What was recorded when it failed, else what its reason says (a contact's status, no channel: no detail).
        return msg.error_detail or (FailedReason(msg.failed_reason).label if msg.failed_reason else None)


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


def status_filter(view, value: str) -> Q:
    """`?status=` takes a status as messages show it (case-insensitive): Herald's (docs/COMPATIBILITY.md, C45)."""
    codes = STATUS_CODES.get(value.lower())
    if codes is None:
        raise InvalidParam(f"Param 'status': {value} is not a message status; use one of {', '.join(STATUS_CODES)}.")
    return Q(status__in=codes)


def contact_filter(view, value: str) -> Q:
    try:
        # Active contacts only, as RapidPro's: a deleted contact's messages are not listed.
        return Q(contact__uuid=uuid.UUID(value), contact__is_active=True)
    except ValueError:
        return NOTHING  # an invalid UUID matches nothing, as in RapidPro


@extend_schema_field({"type": "string", "description": "a contact's UUID or one of its URNs"})
class ContactRefField(ContactRefsField):
    """One contact, by UUID or URN, of this workspace and not deleted: `No such object: <value>` otherwise."""

    def to_internal_value(self, data):
        (contact,) = super().to_internal_value([data])
        return contact

    def to_representation(self, value):
        return {"uuid": str(value.uuid), "name": value.name}


class MsgWriteSerializer(serializers.Serializer):
    """The POST body: one contact, and text or attachments (or both), with optional quick replies."""

    contact = ContactRefField()
    text = serializers.CharField(required=False, max_length=Broadcast.MAX_TEXT_LEN)
    attachments = MediaListField(required=False)
    quick_replies = serializers.ListField(
        child=QuickReplySerializer(), max_length=Broadcast.MAX_QUICK_REPLIES, required=False
    )
    ignore_send_window = serializers.BooleanField(
        required=False,
        default=False,
        help_text="`true`: send at once even while the workspace's send window is closed (docs/COMPATIBILITY.md, "
        "C51). By default a message created while it is closed waits, queued, until it opens.",
    )

    def validate_contact(self, contact):
        # RapidPro writes a failed message for a contact that opted out or was blocked; Herald refuses it and
        # writes nothing (docs/COMPATIBILITY.md, C24).
        if contact.status != ContactStatus.ACTIVE:
            raise serializers.ValidationError(f"Contact is {contact.get_status_display()}: it can't be sent messages.")
        return contact

    def validate(self, data):
        if not (data.get("text") or data.get("attachments")):
            raise serializers.ValidationError("Must provide either text or attachments.")
        return data

    def create(self, data):
        return send_message(
            self.context["workspace"],
            data["contact"],
            data.get("text", ""),
            [media.attachment for media in data.get("attachments", [])],
            data.get("quick_replies", []),
            follow_send_window=not data["ignore_send_window"],
        )


SEND_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Invalid request: field errors keyed by field, rules broken by the whole body under "
    "`non_field_errors`.",
    examples=[
        OpenApiExample("No contact", value={"contact": ["This field is required."]}),
        OpenApiExample("Nothing to send", value={"non_field_errors": ["Must provide either text or attachments."]}),
        OpenApiExample("Unknown media", value={"attachments": ["No such object: xxxx"]}),
    ],
)


@extend_schema_view(
    get=extend_schema(
        summary="List messages",
        responses={
            200: MsgReadSerializer(many=True),
            400: OpenApiResponse(openapi.DETAIL, description="A bad filter"),
            404: OpenApiResponse(openapi.DETAIL, description='`{"detail": "Invalid cursor"}`'),
            **openapi.COMMON_ERRORS,
        },
    ),
    post=extend_schema(
        summary="Send a message to one contact",
        request=MsgWriteSerializer,
        examples=[
            OpenApiExample(
                "A reply",
                value={"contact": "09d23a05-47fe-11e4-bfe9-b8f6b119e9ab", "text": "Thanks, see you on Monday"},
                request_only=True,
            )
        ],
        responses={201: MsgReadSerializer, 400: SEND_ERRORS, 415: openapi.UNSUPPORTED_BODY, **openapi.COMMON_ERRORS},
    ),
)
class MessagesEndpoint(ListAPIMixin, WriteAPIMixin, BaseEndpoint):
    """List the messages of your workspace (a broadcast's, for example) and send one message to one contact.

    Its documentation page is `api/v2/docs/messages.md`."""

    endpoint_name = "messages"
    title = "List messages and send one"
    roles = {"GET": ADMIN_EDITOR, "POST": ADMIN_EDITOR}
    throttle_scope = "v2.messages"
    serializer_class = MsgReadSerializer
    write_serializer_class = MsgWriteSerializer
    pagination_class = MessagesPagination
    blocked_when_flagged = True
    # A message is never changed through the API: POST always sends a new one.
    lookup_params: dict = {}

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
        # Not exclusive: it narrows any of the others, e.g. a broadcast's failed messages.
        Filter(
            "status",
            text_param,
            status_filter,
            "Only messages with this status (case-insensitive), e.g. a broadcast's `failed` ones.",
            enum=tuple(STATUS_CODES),
        ),
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

        return with_relations(super().filter_queryset(queryset))
