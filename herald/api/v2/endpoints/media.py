from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.parsers import MultiPartParser

from herald.api.v2 import openapi
from herald.api.v2.base import BaseEndpoint, DeleteAPIMixin, WriteAPIMixin
from herald.api.v2.parsers import StrictFormParser
from herald.api.v2.permissions import ADMIN_EDITOR, ALL_ROLES
from herald.media import files, quota, storage
from herald.media.models import Media

UNSUPPORTED = "Unsupported file type."
# Room for the multipart boundaries and part headers around the file when judging a body by its length.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def size_limit_message() -> str:
    # RapidPro renders the limit as a float of MB: 25.0 for 25 MiB, 0.0009765625 for 1 KiB
    # (`temba/api/v2/serializers.py` `MediaWriteSerializer.validate_file`).
    return f"Limit for file uploads is {settings.MEDIA_MAX_UPLOAD_BYTES / (1024 * 1024)} MB."


class MediaReadSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    content_type = serializers.CharField()
    url = serializers.URLField()
    filename = serializers.CharField()
    size = serializers.IntegerField()


class MediaWriteSerializer(serializers.Serializer):
    # DRF's own messages: "No file was submitted.", "The submitted file is empty.", "The submitted data was not a
    # file. Check the encoding type on the form."
    file = serializers.FileField()

    def validate_file(self, upload):
        content_type = files.declared_content_type(upload.content_type)
        if content_type is None or not files.is_allowed_type(content_type):
            raise serializers.ValidationError(UNSUPPORTED)
        if upload.size > settings.MEDIA_MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(size_limit_message())
        upload.seek(0)
        head = upload.read(files.SNIFF_BYTES)
        upload.seek(0)
        if not files.content_matches(content_type, head):
            raise serializers.ValidationError(UNSUPPORTED)
        # Refused before the file is copied into storage; `store_upload` checks again, exactly, under a lock.
        quota.check(self.context["workspace"], upload.size)
        # From here on the upload carries the one type everything downstream (the row, the attachment string
        # `type:url`, the Content-Type it is served with) is built from.
        upload.content_type = files.forced_content_type(upload.name, content_type)
        return upload

    def create(self, validated_data):
        upload = validated_data["file"]
        content_type = upload.content_type
        media = storage.store_upload(
            workspace=self.context["workspace"],
            user=self.context["user"],
            upload=upload,
            filename=files.clean_filename(upload.name, content_type),
            content_type=content_type,
            request=self.context["request"],
        )
        self.context["view"].stored.append(media)
        return media


class QuotaExceededError(APIException):
    """413: what the client can act on (delete uploads, or send a smaller file); a 5xx would invite retries."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "media_quota_exceeded"


UUID_PARAM = OpenApiParameter("uuid", OpenApiTypes.UUID, description="The upload with this UUID")


@extend_schema_view(
    post=extend_schema(
        summary="Upload an attachment",
        request={
            "multipart/form-data": MediaWriteSerializer,
            "application/x-www-form-urlencoded": MediaWriteSerializer,
        },
        responses={
            201: MediaReadSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The upload is missing, empty, too big, or not an allowed kind of file.",
                examples=[
                    OpenApiExample("No file", value={"file": ["No file was submitted."]}),
                    OpenApiExample("Not allowed", value={"file": [UNSUPPORTED]}),
                    OpenApiExample("Too big", value={"file": ["Limit for file uploads is 25.0 MB."]}),
                ],
            ),
            403: OpenApiResponse(OpenApiTypes.OBJECT, description="No valid token."),
            413: OpenApiResponse(
                openapi.DETAIL,
                description="The workspace's media storage quota has no room for this file: the message gives the "
                "limit, what is used and the file's size. Delete uploads you no longer need.",
            ),
            415: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description='A JSON body: `{"detail": "Unsupported media type \\"application/json\\" in request."}`.',
            ),
            429: OpenApiResponse(OpenApiTypes.OBJECT, description="Rate limited; wait `Retry-After` seconds."),
        },
    ),
    delete=extend_schema(
        summary="Delete an upload",
        parameters=[UUID_PARAM],
        responses={204: None, 400: openapi.BAD_REQUEST, 404: openapi.NOT_FOUND, **openapi.COMMON_ERRORS},
    ),
)
class MediaEndpoint(WriteAPIMixin, DeleteAPIMixin, BaseEndpoint):
    """Upload an image, audio or video file or a PDF, to attach to broadcasts; delete uploads you no longer need.

    Its documentation page is `api/v2/docs/media.md`."""

    endpoint_name = "media"
    title = "Upload and delete attachments"
    roles = {"POST": ALL_ROLES, "DELETE": ADMIN_EDITOR}
    throttle_scope = "v2"
    parser_classes = [MultiPartParser, StrictFormParser]
    serializer_class = MediaReadSerializer
    blocked_when_flagged = True
    write_serializer_class = MediaWriteSerializer

    @property
    def lookup_params(self):
        # Uploads are never updated in place: a POST always creates, whatever its query string; only DELETE names one.
        return {"uuid": "uuid"} if self.request.method == "DELETE" else {}

    def get_queryset(self):
        return Media.objects.filter(workspace=self.workspace)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Refuse an obviously oversized body before it is read (and spooled to disk) at all.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MEDIA_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES:
            raise serializers.ValidationError({"file": [size_limit_message()]})

    def post(self, request, *args, **kwargs):
        # Uploads written during this request; if anything fails before their rows commit, their files go too.
        self.stored = []
        try:
            return super().post(request, *args, **kwargs)
        except BaseException:
            for media in self.stored:
                storage.discard_if_uncommitted(media)
            raise

    def write(self, request):
        try:
            return super().write(request)
        except quota.QuotaExceeded as e:
            raise QuotaExceededError(str(e)) from None

    def perform_delete(self, media):
        storage.delete_upload(media)
