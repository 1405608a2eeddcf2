"""`/api/v2/channel_logs.json?message=<uuid>` / `?channel=<uuid>`: what Herald sent to a gateway and what came back
(herald/channels/channel_logs.py records them, secrets redacted), so "why did this fail?" is one call. An addition
to RapidPro's API, which shows its channel logs in its web pages only (docs/COMPATIBILITY.md, C68)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers

from herald.api.v2 import openapi
from herald.api.v2.base import BaseEndpoint, ListAPIMixin
from herald.api.v2.filters import Filter, created_between
from herald.api.v2.params import exclusive_params, uuid_param
from herald.api.v2.permissions import ADMIN_EDITOR
from herald.api.v2.serializer_fields import DateTimeField, ObjectRefSerializer
from herald.channels.models import Channel, ChannelLog
from herald.msgs.models import Msg


class HTTPLogSerializer(serializers.Serializer):
    method = serializers.CharField()
    url = serializers.CharField(help_text="The URL, secrets redacted")
    status_code = serializers.IntegerField(allow_null=True, help_text="The answer's HTTP status; null: no answer")
    request = serializers.CharField(help_text="The request as sent: request line, headers, body (up to 8 KB)")
    response = serializers.CharField(help_text="The answer as received: status line, headers, body (up to 8 KB)")
    elapsed_ms = serializers.IntegerField()
    # Written by herald/channels/channel_logs.py already as the API writes dates.
    created_on = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    message = serializers.CharField()


class ChannelLogReadSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    type = serializers.CharField(source="log_type", help_text="msg_send (a hand-over attempt) or msg_status (a report)")
    channel = ObjectRefSerializer()
    message = serializers.UUIDField(source="msg_uuid", allow_null=True, help_text="The message's UUID, if known")
    is_error = serializers.BooleanField()
    # Stored as JSON (PostgreSQL's jsonb keeps no key order): these give each item its fields in a fixed order.
    http_logs = HTTPLogSerializer(many=True)
    # DRF's metaclass takes declared fields out of the class: `Serializer.errors` (validation errors) is untouched.
    errors = ErrorSerializer(many=True)  # type: ignore[assignment]
    elapsed_ms = serializers.IntegerField()
    created_on = DateTimeField()


def _in_workspace(view, model, param: str, noun: str):
    """The object `?<param>=<uuid>` names in the caller's workspace: 404 for one that is not there, whether it does
    not exist or is another workspace's (the answer says nothing about which)."""
    value = uuid_param(view.request, param)
    if value is None:
        return None
    found = model.objects.filter(workspace=view.workspace, uuid=value).only("id", "uuid").first()
    if found is None:
        raise exceptions.NotFound(f"Param '{param}': no {noun} with this UUID in your workspace.")
    return found


@extend_schema_view(
    get=extend_schema(
        summary="List channel logs of a message or a channel",
        responses={
            200: ChannelLogReadSerializer(many=True),
            400: openapi.BAD_REQUEST,
            404: openapi.NOT_FOUND,
            **openapi.COMMON_ERRORS,
        },
    ),
)
class ChannelLogsEndpoint(ListAPIMixin, BaseEndpoint):
    """List what Herald sent to its gateways and what came back: a message's, a channel's or all, newest first.

    Its documentation page is `api/v2/docs/channel_logs.md`."""

    endpoint_name = "channel_logs"
    title = "Channel Logs"
    roles = {"GET": ADMIN_EDITOR}
    serializer_class = ChannelLogReadSerializer
    # Read by `get_queryset` (they choose the index a page is read from); declared here for the schema.
    list_filters = [
        Filter("message", uuid_param, None, "The logs of the message with this UUID", schema_type=OpenApiTypes.UUID),
        Filter("channel", uuid_param, None, "The logs of the channel with this UUID", schema_type=OpenApiTypes.UUID),
        *created_between("logs"),
    ]
    exclusive_filters = ["message", "channel"]

    def get_queryset(self):
        exclusive_params(self.request, self.exclusive_filters)
        msg = _in_workspace(self, Msg, "message", "message")
        channel = _in_workspace(self, Channel, "channel", "channel")
        logs = ChannelLog.objects.select_related("channel")
        if msg is not None:
            return logs.filter(msg_uuid=msg.uuid, channel__workspace=self.workspace)
        if channel is not None:
            return logs.filter(channel=channel)
        return logs.filter(channel__workspace=self.workspace)
