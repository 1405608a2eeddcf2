"""`/api/v2/channels.json`: the channels your workspace sends through, in RapidPro's shape."""

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers

from herald.api.v2 import openapi
from herald.api.v2.base import BaseEndpoint, ListAPIMixin
from herald.api.v2.filters import Filter
from herald.api.v2.params import text_param, uuid_param
from herald.api.v2.permissions import ADMIN_EDITOR
from herald.api.v2.serializer_fields import DateTimeField
from herald.channels.models import Channel


class DeviceSerializer(serializers.Serializer):
    # RapidPro's Android device fields (`ChannelReadSerializer.get_device`, temba/api/v2/serializers.py), for the
    # schema: Herald has no Android channels, so `device` is always null.
    name = serializers.CharField()
    power_level = serializers.IntegerField()
    power_status = serializers.CharField(allow_null=True)
    power_source = serializers.CharField(allow_null=True)
    network_type = serializers.CharField(allow_null=True)


class ChannelReadSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    name = serializers.CharField()
    address = serializers.CharField()
    type = serializers.CharField(source="channel_type", help_text="The channel's type, e.g. external or console")
    country = serializers.SerializerMethodField()
    device = serializers.SerializerMethodField(help_text="Android phones only: always null in Herald")
    last_seen = serializers.SerializerMethodField(help_text="When an Android phone last synced: always null in Herald")
    created_on = DateTimeField()

    def get_country(self, channel) -> str | None:
        return channel.country or None

    @extend_schema_field(DeviceSerializer(allow_null=True))
    def get_device(self, channel) -> None:
        return None

    @extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
    def get_last_seen(self, channel) -> None:
        return None


@extend_schema_view(
    get=extend_schema(
        summary="List channels",
        responses={200: ChannelReadSerializer(many=True), 400: openapi.BAD_REQUEST, **openapi.COMMON_ERRORS},
    ),
)
class ChannelsEndpoint(ListAPIMixin, BaseEndpoint):
    """List the channels of your workspace, newest first.

    Its documentation page is `api/v2/docs/channels.md`."""

    endpoint_name = "channels"
    title = "Channels"
    # Agents may not list channels (temba/api/v2/tests/test_channels.py).
    roles = {"GET": ADMIN_EDITOR}
    serializer_class = ChannelReadSerializer
    list_filters = [
        Filter("uuid", uuid_param, "uuid", "The channel with this UUID"),
        Filter("address", text_param, "address", "The channels with this address (e.g. a phone number), exactly"),
    ]

    def get_queryset(self):
        return Channel.objects.filter(workspace=self.workspace)
