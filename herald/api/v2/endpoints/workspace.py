from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from herald.api.v2.base import BaseEndpoint
from herald.api.v2.permissions import ALL_ROLES
from herald.api.v2.serializer_fields import SEND_WINDOW_SCHEMA
from herald.msgs.windows import workspace_window


class CreditsSerializer(serializers.Serializer):
    used = serializers.IntegerField()
    remaining = serializers.IntegerField()


# RapidPro's answer since it dropped credits (`WorkspaceReadSerializer.get_credits`, temba/api/v2/serializers.py).
NO_CREDITS = {"used": -1, "remaining": -1}


class WorkspaceReadSerializer(serializers.Serializer):
    # In RapidPro's order (`WorkspaceReadSerializer.Meta.fields`), deprecated fields last.
    uuid = serializers.UUIDField()
    name = serializers.CharField()
    country = serializers.SerializerMethodField()
    languages = serializers.ListField(child=serializers.CharField())
    timezone = serializers.CharField(help_text="The IANA zone of the workspace's local time")
    date_style = serializers.SerializerMethodField()
    anon = serializers.BooleanField(source="is_anonymous")
    credits = serializers.SerializerMethodField(help_text="Deprecated: always -1 and -1")
    primary_language = serializers.CharField()
    # Herald's, after RapidPro's fields (docs/COMPATIBILITY.md, C50).
    send_window = serializers.SerializerMethodField()

    def get_country(self, workspace) -> str | None:
        return workspace.country or None

    def get_date_style(self, workspace) -> str:
        return "day_first"

    @extend_schema_field(SEND_WINDOW_SCHEMA)
    def get_send_window(self, workspace) -> dict | None:
        """Its default send window, its zone filled in (the workspace's unless it names one); null: any time."""
        window = workspace_window(workspace)
        return window.as_json() if window else None

    @extend_schema_field(CreditsSerializer)
    def get_credits(self, workspace) -> dict[str, int]:
        return dict(NO_CREDITS)


class WorkspaceEndpoint(BaseEndpoint):
    """Details of the workspace your token belongs to.

    Its documentation page is `api/v2/docs/workspace.md`."""

    endpoint_name = "workspace"
    title = "Your workspace"
    roles = {"GET": ALL_ROLES}
    serializer_class = WorkspaceReadSerializer

    def get(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.workspace).data)
