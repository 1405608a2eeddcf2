from rest_framework import serializers
from rest_framework.response import Response

from ..base import BaseEndpoint
from ..permissions import ALL_ROLES


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
    """
    Details of the workspace your token belongs to.

    ## Reading

    `GET /api/v2/workspace.json` (also at the older alias `/api/v2/org.json`, which the Python client's `get_org()`
    calls) returns:

     * **uuid** - the UUID of the workspace (string)
     * **name** - its name (string)
     * **country** - the two-letter country used to read phone numbers without a country code (string or null)
     * **languages** - the ISO-639-3 languages it sends in; the first is its primary language (array of strings)
     * **primary_language** - where a bare `text` string of a broadcast is filed (string)
     * **timezone** - always `UTC` (string)
     * **date_style** - `day_first` (string)
     * **anon** - whether URNs are hidden from the API (boolean)

    Example:

        GET /api/v2/workspace.json

        {"uuid": "6a44ca78-a4c2-4862-a7d3-2932f9b3a7c3", "name": "Nyaruka", "country": "RW",
         "languages": ["eng", "fra"], "primary_language": "eng", "timezone": "UTC", "date_style": "day_first",
         "anon": false}
    """

    endpoint_name = "workspace"
    title = "Your workspace"
    roles = {"GET": ALL_ROLES}
    serializer_class = WorkspaceReadSerializer

    def get(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.workspace).data)
