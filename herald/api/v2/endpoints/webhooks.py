"""`/api/v2/webhooks.json`: the workspace's webhook subscriptions, listed, created (the secret is shown then, once)
and deleted. Administrators only. Delivery itself is herald/webhooks' (events, sender)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from herald.api.v2 import openapi
from herald.api.v2.base import BaseEndpoint, DeleteAPIMixin, ListAPIMixin, WriteAPIMixin
from herald.api.v2.filters import Filter
from herald.api.v2.params import InvalidParam, uuid_param
from herald.api.v2.permissions import ADMIN_ONLY
from herald.api.v2.serializer_fields import DateTimeField
from herald.webhooks import subscriptions
from herald.webhooks.addresses import RefusedURL, check_url
from herald.webhooks.models import EVENT_TYPES, MAX_BATCH_SIZE, MAX_URL_LENGTH, MESSAGE_STATUSES, Webhook

CANT_CHANGE = "Webhooks can't be changed: delete this one and create another."


BATCH_HELP = (
    'up to this many events per POST, as {"events": [...]}; 1 (the default): one event per POST, the event itself'
)


class WebhookReadSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.ChoiceField(EVENT_TYPES))
    statuses = serializers.ListField(
        child=serializers.ChoiceField(MESSAGE_STATUSES), help_text="message.status events only for these; [] for all"
    )
    batch_size = serializers.IntegerField(help_text=BATCH_HELP)
    active = serializers.BooleanField(source="is_active", help_text="false once the receiver answered 410 Gone")
    deactivated_reason = serializers.CharField(help_text="why it is no longer active; empty while it is")
    created_on = DateTimeField()


class CreatedWebhookSerializer(WebhookReadSerializer):
    """The 201 answer: the subscription and, this once, its secret."""

    secret = serializers.CharField(help_text="the key of every delivery's signature: shown only now, keep it")


class WebhookWriteSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=MAX_URL_LENGTH, trim_whitespace=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(EVENT_TYPES), allow_empty=False, max_length=len(EVENT_TYPES) * 2
    )
    statuses = serializers.ListField(
        child=serializers.ChoiceField(MESSAGE_STATUSES), required=False, max_length=len(MESSAGE_STATUSES) * 2
    )
    batch_size = serializers.IntegerField(min_value=1, max_value=MAX_BATCH_SIZE, required=False, help_text=BATCH_HELP)

    def validate_url(self, value):
        try:
            check_url(value)
        except RefusedURL as exc:
            raise serializers.ValidationError(str(exc)) from None
        if subscriptions.url_taken(self.context["workspace"], value):
            raise serializers.ValidationError(subscriptions.DUPLICATE_URL)
        return value

    def validate(self, data):
        if data.get("statuses") and "message.status" not in data["events"]:
            raise serializers.ValidationError({"statuses": [subscriptions.STATUSES_NEED_EVENT]})
        return data

    def create(self, data):
        try:
            return subscriptions.subscribe(
                self.context["workspace"],
                data["url"],
                data["events"],
                data.get("statuses", []),
                batch_size=data.get("batch_size", 1),
                created_by=self.context.get("user"),
            )
        except subscriptions.DuplicateURL as exc:  # a request racing this one made it first
            raise serializers.ValidationError({"url": [str(exc)]}) from None
        except RefusedURL as exc:  # its name resolves elsewhere since it was checked
            raise serializers.ValidationError({"url": [str(exc)]}) from None


UUID_DESCRIPTION = "The webhook with this UUID"
UUID_PARAM = OpenApiParameter("uuid", OpenApiTypes.UUID, description=UUID_DESCRIPTION)
WRITE_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Invalid request: field errors keyed by field; nothing is written.",
    examples=[
        OpenApiExample("Not http(s)", value={"url": ["Must be an http:// or https:// URL."]}),
        OpenApiExample(
            "A private address",
            value={"url": ["Refused address: 10.0.0.5 is not a public address."]},
        ),
        OpenApiExample("Unknown event", value={"events": {"0": ['"broadcast.sent" is not a valid choice.']}}),
        OpenApiExample("Duplicate", value={"url": [subscriptions.DUPLICATE_URL]}),
    ],
)


@extend_schema_view(
    get=extend_schema(
        summary="List webhooks",
        responses={200: WebhookReadSerializer(many=True), 400: openapi.BAD_REQUEST, **openapi.COMMON_ERRORS},
    ),
    post=extend_schema(
        summary="Create a webhook",
        request=WebhookWriteSerializer,
        responses={201: CreatedWebhookSerializer, 400: WRITE_ERRORS, **openapi.COMMON_ERRORS},
    ),
    delete=extend_schema(
        summary="Delete a webhook",
        parameters=[UUID_PARAM],
        responses={204: None, 400: openapi.BAD_REQUEST, 404: openapi.NOT_FOUND, **openapi.COMMON_ERRORS},
    ),
)
class WebhooksEndpoint(ListAPIMixin, WriteAPIMixin, DeleteAPIMixin, BaseEndpoint):
    """Subscribe a URL to your workspace's events (signed POSTs), list the subscriptions and delete them.

    Its documentation page is `api/v2/docs/webhooks.md`."""

    endpoint_name = "webhooks"
    title = "Webhooks: events POSTed to your URL"
    roles = {"GET": ADMIN_ONLY, "POST": ADMIN_ONLY, "DELETE": ADMIN_ONLY}
    serializer_class = WebhookReadSerializer
    write_serializer_class = WebhookWriteSerializer
    list_filters = [Filter("uuid", uuid_param, "uuid", UUID_DESCRIPTION)]

    def get_queryset(self):
        return Webhook.objects.filter(workspace=self.workspace)

    def get_lookup_object(self):
        if self.request.method == "POST" and self.lookup_values():
            raise InvalidParam(CANT_CHANGE)
        return super().get_lookup_object()

    def write_response(self, saved, created):
        return Response(CreatedWebhookSerializer(saved).data, status=status.HTTP_201_CREATED)

    def perform_delete(self, webhook):
        subscriptions.unsubscribe(webhook)
