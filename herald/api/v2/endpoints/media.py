from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.parsers import MultiPartParser

from herald.media import files, quota, storage
from herald.media.models import Media

from .. import openapi
from ..base import BaseEndpoint, DeleteAPIMixin, WriteAPIMixin
from ..parsers import StrictFormParser
from ..permissions import ADMIN_EDITOR, ALL_ROLES

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
    """
    Upload an image, audio or video file or a PDF, to attach to broadcasts; delete uploads you no longer need.

    ## Uploading

    `POST /api/v2/media.json` as `multipart/form-data` with one field, **file**. Its declared content type must be
    one of `image/apng`, `image/avif`, `image/gif`, `image/jpeg`, `image/png`, `image/webp`, `audio/*`, `video/*`
    or `application/pdf`, written as a plain `type/subtype` (parameters such as `; codecs=opus` are dropped, and the
    stored type is lowercase), and its bytes must really be of that kind. Files up to
    25 MB are accepted unless your server is configured otherwise.

    The answer is **201** with:

     * **uuid** - the UUID of the upload: put it in a broadcast's `attachments` (string)
     * **content_type** - its content type (`.m4a` files are always `audio/mp4`) (string)
     * **url** - the public address it is served at (string)
     * **filename** - the stored name: only letters, digits, spaces and `-_[]()` are kept, and the extension
       matches the content type (string)
     * **size** - its size in bytes (int)

    Example:

        curl -H "Authorization: Token YOUR_API_TOKEN" -F "file=@steve marten.jpg;type=image/jpeg" \\
            https://herald.example.com/api/v2/media.json

        {"uuid": "b97f69f7-5edf-45c7-9fda-d37066eae91d", "content_type": "image/jpeg",
         "url": "https://herald.example.com/media/b97f69f7-5edf-45c7-9fda-d37066eae91d/steve%20marten.jpg",
         "filename": "steve marten.jpg", "size": 7461}

    Then send it:

        POST /api/v2/broadcasts.json
        {"urns": ["tel:+250788123123"], "text": "Our new poster",
         "attachments": ["b97f69f7-5edf-45c7-9fda-d37066eae91d"]}

    ## Storage quota

    A workspace keeps at most 1 GiB of uploads unless your server is configured otherwise. An upload that doesn't
    fit gets **413** with a message giving the limit, what the workspace already stores and the file's size, e.g.
    `{"detail": "Media storage quota exceeded: this workspace stores 1,070,000,000 bytes of uploads, its limit is
    1,073,741,824 bytes (1024.0 MB) and this file has 7,461 bytes. ..."}`. Deleting uploads makes room at once.

    ## Deleting uploads

    `DELETE /api/v2/media.json?uuid=...` deletes an upload and its file and frees its bytes: **204**, or **404** if
    your workspace has no such upload. Messages and broadcasts already made with it keep their text and the
    attachment's address, which answers 404 from then on.

        curl -X DELETE -H "Authorization: Token YOUR_API_TOKEN" \\
            "https://herald.example.com/api/v2/media.json?uuid=b97f69f7-5edf-45c7-9fda-d37066eae91d"

    Every role may upload; only administrators and editors may delete.

    ## Errors

    **400** with `{"file": ["No file was submitted."]}`, `{"file": ["The submitted file is empty."]}`,
    `{"file": ["Unsupported file type."]}` (a type not listed above or not a plain `type/subtype`, or bytes that
    aren't what the type says), or `{"file": ["Limit for file uploads is 25.0 MB."]}`. **413** when the quota is
    full (above). A JSON body gets **415**; `GET` gets **405**. A `DELETE` without `uuid` gets **400**.
    """

    endpoint_name = "media"
    title = "Upload and delete attachments"
    roles = {"POST": ALL_ROLES, "DELETE": ADMIN_EDITOR}
    throttle_scope = "v2"
    parser_classes = [MultiPartParser, StrictFormParser]
    serializer_class = MediaReadSerializer
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
