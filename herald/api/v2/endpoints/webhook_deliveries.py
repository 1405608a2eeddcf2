"""`/api/v2/webhook_deliveries.json`: each event's delivery to a webhook, with every attempt and its answer, so
that "did my receiver get it, and what did it say?" has an answer in one call. Administrators only."""

from django.db.models import Q, prefetch_related_objects
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers

from herald.api.v2 import openapi
from herald.api.v2.base import BaseEndpoint, ListAPIMixin
from herald.api.v2.filters import Filter
from herald.api.v2.params import InvalidParam, parse_uuid, text_param
from herald.api.v2.permissions import ADMIN_ONLY
from herald.api.v2.serializer_fields import DateTimeField, LabelField
from herald.webhooks.models import Delivery, DeliveryStatus, Event, Webhook


class AttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    started_on = DateTimeField()
    status_code = serializers.IntegerField(allow_null=True, help_text="the receiver's HTTP status; null: no answer")
    elapsed_ms = serializers.IntegerField()
    response = serializers.CharField(help_text="the start of the answer's body (500 characters at most)")
    error = serializers.CharField(help_text="why there was no usable answer (timeout, connection, address)")


class EventRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="uuid")
    type = serializers.CharField()
    created_on = DateTimeField()


class WebhookRefSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    url = serializers.CharField()


class DeliveryReadSerializer(serializers.Serializer):
    webhook = WebhookRefSerializer()
    event = EventRefSerializer()
    status = LabelField(dict(DeliveryStatus.choices))
    next_attempt = serializers.SerializerMethodField()
    attempts = AttemptSerializer(many=True, source="attempt_rows.all")
    created_on = DateTimeField()

    @extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
    def get_next_attempt(self, delivery):
        if delivery.status != DeliveryStatus.PENDING:
            return None
        return DateTimeField().to_representation(delivery.next_attempt)


def webhook_filter(view, value: str) -> Q:
    """`?webhook=`: a webhook of this workspace; any other value is a 400 (not an empty list), so a typo or another
    workspace's UUID is told apart from "no deliveries yet"."""
    uuid = parse_uuid(value, "webhook")
    if not Webhook.objects.filter(workspace=view.workspace, uuid=uuid).exists():
        raise InvalidParam(f"Param 'webhook': your workspace has no webhook {value}.")
    return Q(webhook__uuid=uuid)


def event_filter(view, value: str) -> Q:
    """`?event=`: an event (its `id` in the POST body) of this workspace, else a 400."""
    uuid = parse_uuid(value, "event")
    if not Event.objects.filter(workspace=view.workspace, uuid=uuid).exists():
        raise InvalidParam(f"Param 'event': your workspace has no event {value}.")
    return Q(event__uuid=uuid)


@extend_schema_view(
    get=extend_schema(
        summary="List webhook deliveries and their attempts",
        responses={200: DeliveryReadSerializer(many=True), 400: openapi.BAD_REQUEST, **openapi.COMMON_ERRORS},
    ),
)
class WebhookDeliveriesEndpoint(ListAPIMixin, BaseEndpoint):
    """Each event's delivery to each of your webhooks, newest first, with its attempts.

    Its documentation page is `api/v2/docs/webhook_deliveries.md`."""

    endpoint_name = "webhook_deliveries"
    title = "Webhook deliveries and their attempts"
    roles = {"GET": ADMIN_ONLY}
    serializer_class = DeliveryReadSerializer
    list_filters = [
        Filter("webhook", text_param, webhook_filter, "Only deliveries to this webhook", schema_type=OpenApiTypes.UUID),
        Filter("event", text_param, event_filter, "Only deliveries of this event", schema_type=OpenApiTypes.UUID),
    ]

    def get_queryset(self):
        return Delivery.objects.filter(webhook__workspace=self.workspace).select_related("webhook", "event")

    def prepare_page(self, page):
        prefetch_related_objects(page, "attempt_rows")
