"""Request-level answers that must be JSON like the rest of the API, whichever view was running."""

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.log import log_response

from herald.api import errors
from herald.controlchars import has_control_characters

# Exceptions Django itself answers with a 4xx: they are the client's, not the server's.
CLIENT_ERRORS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation, MultiPartParserError)


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


class ServerErrorsAsJSONMiddleware:
    """An exception no view handled gets a JSON answer (`herald.api.errors`: 507 for a full disk, 503 for an
    unreachable database, broker or Redis, else 500) instead of Django's HTML page, on every URL, and is logged with its
    traceback like Django's own 500s (logger `django.request`).

    DRF hands on every exception that is not one of its own (validation, auth, throttling ...), so one place
    serves the API, the delivery-report URLs and media alike. Django's own 4xx exceptions are left to Django, and so
    is everything in debug mode.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        # HERALD_DEBUG (loopback only) keeps Django's debug page, whose credentials herald.api.debug masks.
        if isinstance(exception, CLIENT_ERRORS) or settings.DEBUG:
            return None
        error = errors.describe(exception)
        response = JsonResponse({"detail": error.detail}, status=error.status)
        if error.retry_after is not None:
            response["Retry-After"] = str(error.retry_after)
        log_response(
            "%s: %s", response.reason_phrase, request.path, response=response, request=request, exception=exception
        )
        return response
