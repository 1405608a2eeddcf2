"""`/api/v2/broadcasts.json`: list broadcasts (GET) and send a new one (POST)."""

from datetime import UTC, datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from herald.api.v2 import content_fields, openapi
from herald.api.v2.base import BaseEndpoint, ListAPIMixin, WriteAPIMixin
from herald.api.v2.content_fields import TranslatedAttachmentsField, TranslatedQuickRepliesField, TranslatedTextField
from herald.api.v2.endpoints.broadcast_counts import COUNTS_SCHEMA, attach_counts, counts_of, with_count_rows
from herald.api.v2.filters import Filter, created_between
from herald.api.v2.formats import format_datetime
from herald.api.v2.params import InvalidParam, bool_param, int_param, uuid_param
from herald.api.v2.permissions import ADMIN_EDITOR
from herald.api.v2.schedule_fields import (
    ScheduleInputField,
    ScheduleReadSerializer,
    as_validation_error,
    checked_recurrence,
    default_start,
)
from herald.api.v2.serializer_fields import (
    SEND_WINDOW_SCHEMA,
    ContactRefsField,
    DateTimeField,
    DirectReadSerializer,
    GroupRefsField,
    LabelField,
    LanguageField,
    ObjectRefSerializer,
    SendWindowField,
    URNField,
    object_ref,
)
from herald.channels.models import Template, TemplateStatus
from herald.contacts import urns as urn_parser
from herald.contacts.models import Contact, ContactGroup
from herald.db import UUIDText
from herald.msgs import schedules
from herald.msgs.content import Translations
from herald.msgs.dryrun import dry_run as plan_broadcast
from herald.msgs.models import Broadcast, BroadcastSchedule, BroadcastStatus, scheduled_and_waiting
from herald.msgs.recurrence import RecurrenceError
from herald.msgs.tasks import enqueue_broadcast, queue_fire
from herald.msgs.windows import waiting_until, workspace_window
from herald.workspaces.send_window import SendWindow

MAX_URNS = 100
# A broadcast's own speed limit: a positive whole number, up to a rate no channel reaches.
MAX_PER_SECOND = 10_000
MAX_PER_SECOND_RULE = f"Must be a whole number of messages per second, from 1 to {MAX_PER_SECOND:,}."
# A template's variables: WhatsApp's body is at most 1,024 characters once filled in.
MAX_TEMPLATE_VARIABLES, MAX_TEMPLATE_VARIABLE_LEN = 100, 1024


# How far a broadcast's fan-out has got.
class ProgressSerializer(DirectReadSerializer):
    total = serializers.SerializerMethodField(help_text="recipients counted, -1 until they are")
    started = serializers.IntegerField(source="msg_count", help_text="messages created so far")

    def get_total(self, broadcast) -> int:
        return broadcast.contact_count if broadcast.contact_count is not None else -1


class BroadcastReadSerializer(DirectReadSerializer):
    """A broadcast as GET lists it (and as POST answers it)."""

    uuid = serializers.UUIDField()
    status = LabelField(dict(BroadcastStatus.choices))
    progress = ProgressSerializer(source="*")
    urns = serializers.SerializerMethodField()
    contacts = ObjectRefSerializer(many=True, source="contact_refs")
    groups = ObjectRefSerializer(many=True, source="group_refs")
    text = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    quick_replies = serializers.SerializerMethodField()
    base_language = serializers.CharField(max_length=3)
    created_on = DateTimeField(read_only=True)
    id = serializers.IntegerField(read_only=True)
    # Herald's additions, after RapidPro's fields.
    send_at = DateTimeField(read_only=True, allow_null=True, help_text="when a scheduled broadcast begins, else null")
    send_window = serializers.SerializerMethodField()
    waiting_until = serializers.SerializerMethodField()
    schedule = serializers.SerializerMethodField(help_text="how a repeating broadcast repeats, else null")
    # The API's name for it; DRF's metaclass takes declared fields off the class, so Field.parent is left alone.
    parent = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text="the repeating broadcast that made this one, else null"
    )
    expire_at = DateTimeField(
        read_only=True, allow_null=True, help_text="when its messages not yet sent fail (`expired`), else null"
    )
    max_per_second = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="its own speed limit per channel (SMS segments for tel), else null"
    )
    counts = serializers.SerializerMethodField()
    template = serializers.SerializerMethodField(help_text="the provider template its messages go as, else null")
    template_variables = serializers.SerializerMethodField()

    def to_representation(self, broadcast):
        if not hasattr(broadcast, "contact_refs"):
            attach_recipient_refs([broadcast])
        return super().to_representation(broadcast)

    @extend_schema_field(COUNTS_SCHEMA)
    def get_counts(self, broadcast) -> dict:
        if not hasattr(broadcast, "msg_counts"):  # one broadcast (a POST's answer): a page has them attached
            attach_counts([broadcast])
        return counts_of(broadcast)

    @extend_schema_field(ObjectRefSerializer(allow_null=True))
    def get_template(self, broadcast) -> dict | None:
        if broadcast.template_id is None:
            return None
        return {"uuid": str(broadcast.template.uuid), "name": broadcast.template.name}

    @extend_schema_field(
        {"type": "array", "items": {"type": "string"}, "description": "the template body's variables, as written"}
    )
    def get_template_variables(self, broadcast) -> list[str]:
        return broadcast.template_variables or []

    @extend_schema_field(ScheduleReadSerializer(allow_null=True))
    def get_schedule(self, broadcast) -> dict | None:
        schedule = schedule_of(broadcast)
        if schedule is None:
            return None
        if not hasattr(self, "_schedule_serializer"):
            self._schedule_serializer = ScheduleReadSerializer()
        return self._schedule_serializer.to_representation(schedule)

    @extend_schema_field(
        {"type": "object", "nullable": True, "properties": {"uuid": {"type": "string", "format": "uuid"}}}
    )
    def get_parent(self, broadcast) -> dict | None:
        if broadcast.parent_id is None:
            return None
        uuid = getattr(broadcast, "parent_uuid", None) or broadcast.parent.uuid
        return {"uuid": str(uuid)}

    @extend_schema_field({"type": "array", "items": {"type": "string"}, "nullable": True})
    def get_urns(self, broadcast) -> list[str] | None:
        # Anonymous workspaces never reveal addresses.
        return None if self.context["workspace"].is_anonymous else list(broadcast.urns)

    @extend_schema_field(SEND_WINDOW_SCHEMA)
    def get_send_window(self, broadcast) -> dict | None:
        return broadcast.send_window

    @extend_schema_field(
        {
            "type": "string",
            "format": "date-time",
            "nullable": True,
            "description": "when its messages may next go, while its send window is closed; null when sending",
        }
    )
    def get_waiting_until(self, broadcast) -> str | None:
        return format_datetime(waiting_until(broadcast, timezone.now()))

    @extend_schema_field(content_fields.TRANSLATED_TEXT_OUT)
    def get_text(self, broadcast) -> dict:
        return broadcast.content.text_by_language()

    @extend_schema_field(content_fields.TRANSLATED_ATTACHMENTS_OUT)
    def get_attachments(self, broadcast) -> dict:
        return broadcast.content.attachments_by_language()

    @extend_schema_field(content_fields.TRANSLATED_QUICK_REPLIES_OUT)
    def get_quick_replies(self, broadcast) -> dict:
        return broadcast.content.quick_replies_by_language()


def schedule_of(broadcast: Broadcast) -> BroadcastSchedule | None:
    try:
        return broadcast.schedule
    except BroadcastSchedule.DoesNotExist:
        return None


def attach_recipient_refs(broadcasts: list[Broadcast]) -> None:
    """Set `contact_refs` and `group_refs` (`{uuid, name}` lists, by id) on each broadcast: two queries in all."""
    by_id = {b.id: b for b in broadcasts}
    contacts = _refs_by_broadcast(Broadcast.contacts.through, "contact", by_id)
    groups = _refs_by_broadcast(Broadcast.groups.through, "contactgroup", by_id)
    for b in broadcasts:
        b.contact_refs, b.group_refs = contacts.get(b.id, []), groups.get(b.id, [])


def link_recipients(broadcast: Broadcast, contacts: list[Contact], groups: list[ContactGroup]) -> None:
    """Link a new broadcast to its (distinct) contacts and groups, an insert for each list that has any (`set()`
    would first read the links a new broadcast can't have), and give it their refs for the 201, as
    `attach_recipient_refs` would read them back."""
    contact_links, group_links = Broadcast.contacts.through, Broadcast.groups.through
    contact_links.objects.bulk_create(contact_links(broadcast_id=broadcast.id, contact_id=c.id) for c in contacts)
    group_links.objects.bulk_create(group_links(broadcast_id=broadcast.id, contactgroup_id=g.id) for g in groups)
    broadcast.contact_refs = [object_ref(c) for c in sorted(contacts, key=lambda c: c.id)]
    broadcast.group_refs = [object_ref(g) for g in sorted(groups, key=lambda g: g.id)]


def _refs_by_broadcast(through, target: str, broadcast_ids) -> dict[int, list[dict]]:
    """The `{uuid, name}` of each broadcast's `target` rows (contacts or groups), in id order: one query."""
    rows = (
        through.objects.filter(broadcast_id__in=broadcast_ids)
        .order_by(f"{target}_id")
        .values_list("broadcast_id", UUIDText(f"{target}__uuid"), f"{target}__name")
    )
    refs: dict[int, list[dict]] = {}
    for broadcast_id, uuid, name in rows:
        refs.setdefault(broadcast_id, []).append({"uuid": uuid, "name": name})
    return refs


# How late a `send_at` may be and still be taken (as "now"): the client's clock and the time the request took.
SEND_AT_LATE_TOLERANCE = timedelta(seconds=60)
SEND_AT_MAX_AHEAD = timedelta(days=366)


@extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
class SendAtField(serializers.Field):
    """When a broadcast is to begin: an ISO 8601 datetime with an offset (or `Z`), in the future, at most a year
    ahead. A time without an offset is refused rather than guessed (docs/COMPATIBILITY.md, C42)."""

    default_error_messages = {
        "invalid": "Must be an ISO 8601 datetime with a timezone offset, e.g. 2027-01-31T18:00:00Z.",
        "naive": "Must include a timezone offset (e.g. +02:00 or Z): {value} names no single instant.",
        "past": "Must be in the future (a time up to 60 seconds ago is taken as now).",
        "too_far": "Must be at most 366 days ahead.",
    }
    late_tolerance = SEND_AT_LATE_TOLERANCE

    def to_internal_value(self, value):
        parsed = self._parse(value)
        if parsed.tzinfo is None:
            self.fail("naive", value=value)
        now = timezone.now()
        if parsed < now - self.late_tolerance:
            self.fail("past")
        if parsed > now + SEND_AT_MAX_AHEAD:
            self.fail("too_far")
        return max(parsed, now).astimezone(UTC)

    def _parse(self, value) -> datetime:
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
            # An offset Python reads that PostgreSQL refuses (e.g. +23:55) or a year out of range after it: invalid.
            if parsed is not None and parsed.tzinfo is not None:
                parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            parsed = None
        if parsed is None:
            self.fail("invalid")
        return parsed

    def to_representation(self, value):
        return format_datetime(value)


class ExpireAtField(SendAtField):
    """When a broadcast's messages not yet handed to a channel fail (`expired`): like `send_at`, but a time already
    past is refused, not taken as now (it would fail everything at once; docs/COMPATIBILITY.md, C49)."""

    default_error_messages = {**SendAtField.default_error_messages, "past": "Must be in the future."}
    late_tolerance = timedelta(0)


class StringField(serializers.CharField):
    """A JSON string only: a number or a boolean is no template variable (DRF's CharField would take it as text)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class BroadcastWriteSerializer(serializers.Serializer):
    """The POST body: recipients, content in one or more languages, and optionally its base language."""

    urns = serializers.ListField(child=URNField(), max_length=MAX_URNS, required=False)
    contacts = ContactRefsField(required=False)
    groups = GroupRefsField(required=False)
    text = TranslatedTextField(required=False)
    attachments = TranslatedAttachmentsField(required=False)
    quick_replies = TranslatedQuickRepliesField(required=False)
    base_language = LanguageField(required=False)
    dry_run = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Send nothing, write nothing: answer 200 with what sending would do (also `?dry_run=1`).",
    )
    send_at = SendAtField(required=False, allow_null=True)
    send_window = SendWindowField(
        required=False,
        allow_null=True,
        help_text="When its messages may go (null: at any time); left out, the workspace's window as it is now.",
    )
    schedule = ScheduleInputField(
        required=False,
        allow_null=True,
        help_text="Repeat it: each occurrence sends a child broadcast (api/v2/docs/schedules.md).",
    )
    expire_at = ExpireAtField(required=False, allow_null=True)
    max_per_second = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_PER_SECOND,
        error_messages={
            "invalid": MAX_PER_SECOND_RULE,
            "min_value": MAX_PER_SECOND_RULE,
            "max_value": MAX_PER_SECOND_RULE,
            "max_string_length": MAX_PER_SECOND_RULE,
        },
        help_text="At most this many of its messages handed over a second on each channel, counted as the channel's "
        "tps counts (SMS segments for tel URNs); a value above a channel's tps changes nothing there.",
    )
    template = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="A message template's UUID (templates.json): its messages go as that template on channels that "
        "have it approved (WhatsApp), as the text elsewhere.",
    )
    template_variables = serializers.ListField(
        child=StringField(max_length=MAX_TEMPLATE_VARIABLE_LEN),
        required=False,
        max_length=MAX_TEMPLATE_VARIABLES,
        help_text="The template body's {{1}}, {{2}} ... in order; expressions such as @contact.name are filled in "
        "for each contact, as in the text.",
    )

    def validate_template(self, value):
        if value is None:
            return None
        template = Template.objects.filter(workspace=self.context["workspace"], uuid=value).first()
        if template is None:
            raise serializers.ValidationError(f"No such template: {value}.")
        return template

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
        send_at, expire_at = data.get("send_at"), data.get("expire_at")
        if send_at and expire_at and expire_at <= send_at:
            raise serializers.ValidationError({"expire_at": ["Must be after send_at."]})

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
        self.check_template_variables(data)
        if data.get("schedule"):
            # Its first occurrence is send_at's, or the rule's first from now (docs/COMPATIBILITY.md, C53).
            start = data.get("send_at") or default_start()
            try:
                data["recurrence"] = checked_recurrence(data["schedule"], self.context["workspace"].timezone, start)
            except RecurrenceError as error:
                raise as_validation_error(error, under="schedule") from None
        return data

    @staticmethod
    def check_template_variables(data) -> None:
        """A template needs one variable per `{{n}}` of its body, as its approved translations have it; variables
        without a template mean nothing."""
        template, variables = data.get("template"), data.get("template_variables") or []
        if template is None:
            if variables:
                raise serializers.ValidationError({"template_variables": ["Only with a template."]})
            return
        approved = list(template.translations.filter(status=TemplateStatus.APPROVED).order_by("id"))
        if not approved:
            raise serializers.ValidationError(
                {"template": [f"Template {template.name!r} has no approved translation on any channel."]}
            )
        translation = approved[0]
        if translation.other_variable_count:
            problem = f"Template {template.name!r} has header or button variables: Herald fills in body ones only."
            raise serializers.ValidationError({"template": [problem]})
        expected = translation.body_variable_count
        if len(variables) != expected:
            problem = f"Template {template.name!r} takes {expected} body variables, got {len(variables)}."
            raise serializers.ValidationError({"template_variables": [problem]})

    def create(self, data):
        content = content_of(data)
        broadcast = Broadcast.objects.create(
            workspace=self.context["workspace"],
            status=BroadcastStatus.PENDING,
            translations=content.by_language,
            base_language=base_language_of(data),
            urns=data.get("urns", []),
            created_by=self.context["user"],
            send_at=data.get("send_at"),
            send_window=stored_window(window_of_body(data, self.context["workspace"])),
            expire_at=data.get("expire_at"),
            max_per_second=data.get("max_per_second"),
            template=data.get("template"),
            template_variables=data.get("template_variables") or [] if data.get("template") else None,
        )
        link_recipients(broadcast, data.get("contacts", []), data.get("groups", []))
        broadcast.msg_counts = {}  # the 201 shows it as created (pending): no message yet, no query to ask
        if data.get("recurrence") is None:
            # Known to have no schedule: reading it for the answer (and after_write) needs no query.
            Broadcast.schedule.related.set_cached_value(broadcast, None)
        else:
            # The parent: it never sends itself, its occurrences are children (herald/msgs/schedules.py).
            schedule = schedules.create(broadcast, data["recurrence"], data["schedule"]["repeat"])
            Broadcast.objects.filter(id=broadcast.id).update(send_at=schedule.next_fire)
            broadcast.send_at = schedule.next_fire
        return broadcast

    def plan(self) -> dict:
        """What `save()` and the fan-out would do with this valid body, with nothing written."""
        data = self.validated_data
        return plan_broadcast(
            self.context["workspace"],
            content_of(data),
            base_language_of(data),
            contacts=data.get("contacts", []),
            groups=data.get("groups", []),
            urns=data.get("urns", []),
            window=window_of_body(data, self.context["workspace"]),
            send_at=data.get("send_at"),
            max_per_second=data.get("max_per_second"),
            message_template=data.get("template"),
            template_variables=data.get("template_variables") or [],
        )


def window_of_body(data, workspace) -> SendWindow | None:
    """The broadcast's send window: the body's (null: none), else a copy of the workspace's as it is now, so a later
    change of the workspace's doesn't move a broadcast already sent (docs/COMPATIBILITY.md, C50)."""
    return data["send_window"] if "send_window" in data else workspace_window(workspace)


def stored_window(window: SendWindow | None) -> dict | None:
    return window.as_json() if window else None


def content_of(data) -> Translations:
    """The validated body's content, as a broadcast stores it."""
    attachments = {lang: [m.attachment for m in media] for lang, media in (data.get("attachments") or {}).items()}
    return Translations.from_parts(data.get("text"), attachments, data.get("quick_replies"))


def base_language_of(data) -> str:
    return data.get("base_language") or default_base_language(data)


def default_base_language(data) -> str:
    """The first text language; failing that, the first language that has attachments.

    RapidPro takes the first language of the merged translations, which can be one with an empty attachment list
    and so nothing to fall back to (docs/COMPATIBILITY.md, C5).
    """
    if data.get("text"):
        return next(iter(data["text"]))
    return next(lang for lang, media in data["attachments"].items() if media)


def is_dry_run(request) -> bool:
    """`"dry_run": true` in the body (the documented form), or `?dry_run=true` for clients that can't add a field;
    both read as the serializer reads a boolean. A body value that is no boolean is refused by the serializer."""
    body = request.data
    in_body = isinstance(body, dict) and "dry_run" in body and _as_boolean(body["dry_run"]) is True
    param = request.query_params.get("dry_run")
    if param is None:
        return in_body
    as_boolean = _as_boolean(param)
    if as_boolean is None:
        raise InvalidParam("dry_run must be true or false")
    return as_boolean or in_body


def _as_boolean(value) -> bool | None:
    try:
        return serializers.BooleanField().to_internal_value(value)
    except serializers.ValidationError:
        return None


def scheduled_filter(view, scheduled: bool) -> Q:
    return scheduled_and_waiting() if scheduled else Q()


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
_COUNTS = serializers.DictField(child=serializers.IntegerField())
DRY_RUN_200 = OpenApiResponse(
    inline_serializer(
        name="BroadcastDryRun",
        fields={
            "recipients": serializers.IntegerField(help_text="messages the send would create, one per recipient"),
            "sendable": serializers.IntegerField(help_text="of those, the ones that would go out (queued)"),
            "new_contacts": serializers.IntegerField(help_text="URNs of the body that no contact owns yet"),
            "excluded": _COUNTS,
            "languages": _COUNTS,
            "segments": inline_serializer(
                name="BroadcastDryRunSegments",
                fields={n: serializers.IntegerField() for n in ("total", "gsm7", "ucs2")},
            ),
            "channels": inline_serializer(
                name="BroadcastDryRunChannel",
                many=True,
                fields={
                    "uuid": serializers.UUIDField(),
                    "name": serializers.CharField(),
                    "tps": serializers.IntegerField(allow_null=True),
                    "messages": serializers.IntegerField(),
                    "segments": serializers.IntegerField(),
                    "estimated_seconds": serializers.FloatField(allow_null=True),
                },
            ),
            "waiting_until": serializers.DateTimeField(
                allow_null=True, help_text="when the send would begin to go out, if its send window is closed then"
            ),
            "left_out": serializers.DictField(
                child=serializers.IntegerField(),
                help_text="members of the addressed groups who aren't active (stopped, archived, blocked): no "
                "message is made for them, so they are not among `recipients`",
            ),
            "sample": inline_serializer(
                name="BroadcastDryRunMessage",
                many=True,
                fields={
                    "contact": inline_serializer(
                        name="BroadcastDryRunContact",
                        fields={
                            "uuid": serializers.UUIDField(allow_null=True),
                            "name": serializers.CharField(allow_null=True),
                        },
                    ),
                    "urn": serializers.CharField(allow_null=True),
                    "language": serializers.CharField(allow_null=True),
                    "text": serializers.CharField(),
                    "attachments": serializers.ListField(child=serializers.CharField()),
                    "quick_replies": serializers.ListField(child=serializers.CharField()),
                    "excluded": serializers.CharField(allow_null=True),
                    "templating": serializers.JSONField(
                        allow_null=True,
                        help_text="what it would go as on a channel that has the template: `{template, language, "
                        "namespace, variables}`, else null",
                    ),
                },
            ),
        },
    ),
    description='`"dry_run": true` (or `?dry_run=true`): what the send would do; nothing was written. The '
    "`excluded` reasons are blocked, stopped, archived (failed reason `contact`), no_urn, no_channel (failed reason "
    "`no_destination`), too_long and suspended; see api/v2/docs/broadcasts.md.",
)
BAD_FILTER = OpenApiResponse(openapi.DETAIL, description="A bad filter, e.g. `before` that is not a datetime")
INVALID_CURSOR = OpenApiResponse(openapi.DETAIL, description='`{"detail": "Invalid cursor"}`')


# Columns a broadcast's answer never shows (nor what it is worked out from): not read for a page, whose 250 rows each
# cost a conversion per column read.
NOT_SHOWN = (
    "failures",
    "occurrence",
    "expired_on",
    "paused_from",
    "created_by",
    "modified_on",
    "schedule__created_on",
    "schedule__modified_on",
)


@extend_schema_view(
    get=extend_schema(
        summary="List broadcasts",
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
        parameters=[
            OpenApiParameter(
                "dry_run",
                OpenApiTypes.BOOL,
                description='The same as `"dry_run": true` in the body: send and write nothing, answer 200',
            )
        ],
        examples=[
            OpenApiExample(
                "Hello to one number",
                value={"urns": ["tel:+250788123123"], "text": {"eng": "Hello @contact.name!", "fra": "Bonjour !"}},
                request_only=True,
            )
        ],
        responses={
            200: DRY_RUN_200,
            201: BroadcastReadSerializer,
            400: ERROR_400,
            404: OpenApiResponse(openapi.DETAIL, description="`?uuid=` names no broadcast of your workspace"),
            **openapi.COMMON_ERRORS,
        },
    ),
)
class BroadcastsEndpoint(ListAPIMixin, WriteAPIMixin, BaseEndpoint):
    """Send a message, in one or more languages, to URNs, contacts and whole groups, and list what you sent.

    Its documentation page is `api/v2/docs/broadcasts.md`."""

    endpoint_name = "broadcasts"
    title = "Send and list broadcasts"
    roles = {"GET": ADMIN_EDITOR, "POST": ADMIN_EDITOR}
    throttle_scope = "v2"
    serializer_class = BroadcastReadSerializer
    write_serializer_class = BroadcastWriteSerializer
    blocked_when_flagged = True
    list_filters = [
        Filter("uuid", uuid_param, "uuid", "Only the broadcast with this UUID."),
        Filter("id", int_param, "id", "Deprecated: only the broadcast with this integer id."),
        *created_between("broadcasts"),
        Filter("scheduled", bool_param, scheduled_filter, "`true`: only scheduled broadcasts still waiting to begin"),
        Filter("parent", uuid_param, "parent__uuid", "Only the occurrences (children) of this repeating broadcast."),
    ]

    def get_queryset(self):
        return with_count_rows(
            Broadcast.objects.filter(workspace=self.workspace, is_active=True)
            .select_related("schedule", "template")
            .defer(*NOT_SHOWN)
            .annotate(parent_uuid=F("parent__uuid"))
        )

    def prepare_page(self, page):
        attach_recipient_refs(page)
        attach_counts(page)

    def get_lookup_object(self):
        # RapidPro silently creates a copy when POSTed `?uuid=<existing>`; broadcasts are immutable, so say so
        # (docs/COMPATIBILITY.md, C8).
        if super().get_lookup_object() is not None:
            raise InvalidParam(CANT_CHANGE)
        return None

    def post(self, request, *args, **kwargs):
        # Before the Idempotency-Key is looked at: a dry run records nothing under it, so the real send that
        # follows with the same key still sends (api/v2/docs/broadcasts.md, "Dry run").
        if is_dry_run(request):
            return self.dry_run(request)
        return super().post(request, *args, **kwargs)

    def dry_run(self, request):
        checked = self.validated_write(request)
        if isinstance(checked, Response):
            return checked
        _, serializer = checked
        return Response(dry_run_answer(serializer), status=status.HTTP_200_OK)

    def after_write(self, broadcast, created: bool) -> None:
        start_sending(broadcast)


def dry_run_answer(serializer: BroadcastWriteSerializer) -> dict:
    """The 200 a dry run answers for this valid body (the web interface's preview shows the same)."""
    plan = serializer.plan()
    return {**plan, "waiting_until": format_datetime(plan["waiting_until"])}


def start_sending(broadcast: Broadcast) -> None:
    """Once a new broadcast has committed: queue its fan-out (at its send_at), or its schedule's first occurrence."""
    schedule = schedule_of(broadcast)
    if schedule is None:
        enqueue_broadcast(broadcast.id, broadcast.send_at)
    else:
        queue_fire(schedule.id, schedule.next_fire)
