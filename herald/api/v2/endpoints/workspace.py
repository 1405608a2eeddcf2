from rest_framework import serializers
from rest_framework.response import Response

from herald.api.v2.base import BaseEndpoint
from herald.api.v2.permissions import ALL_ROLES


class WorkspaceReadSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    name = serializers.CharField()
    country = serializers.SerializerMethodField()
    languages = serializers.ListField(child=serializers.CharField())
    primary_language = serializers.CharField()
    timezone = serializers.SerializerMethodField()
    date_style = serializers.SerializerMethodField()
    anon = serializers.BooleanField(source="is_anonymous")

    def get_country(self, workspace) -> str | None:
        return workspace.country or None

    def get_timezone(self, workspace) -> str:
        return "UTC"

    def get_date_style(self, workspace) -> str:
        return "day_first"


class WorkspaceEndpoint(BaseEndpoint):
    """Details of the workspace your token belongs to.

    Its documentation page is `api/v2/docs/workspace.md`."""

    endpoint_name = "workspace"
    title = "Your workspace"
    roles = {"GET": ALL_ROLES}
    serializer_class = WorkspaceReadSerializer

    def get(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.workspace).data)
