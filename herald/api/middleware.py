"""Request-level answers that must be JSON like the rest of the API, whichever view was running."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse

from herald.controlchars import has_control_characters


class RequestTooLargeMiddleware:
    """A body over `DATA_UPLOAD_MAX_MEMORY_SIZE` (HERALD_MAX_BODY_BYTES) gets a JSON 413 instead of Django's HTML 400.

    Django raises `RequestDataTooBig` when a view first reads such a body (JSON, urlencoded, or the non-file parts
    of a multipart form), judging by Content-Length before reading it. Uploaded files don't count towards it, so
    media uploads are held only to their own, larger limit (`MEDIA_MAX_UPLOAD_BYTES`).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return JsonResponse({"detail": f"Request body is larger than the limit of {limit} bytes."}, status=413)
        return None


class ControlCharactersInPathMiddleware:
    """A URL path holding a control character once percent-decoded (`/media/<uuid>/a%00b`) names nothing Herald
    serves: a JSON 400 before any view runs, instead of PostgreSQL refusing the NUL in a lookup (a 500)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if has_control_characters(request.path_info):
            return JsonResponse({"detail": "The URL path must not contain control characters."}, status=400)
        return self.get_response(request)
