"""What a gateway's callback request carries, read strictly: its parameters (query string, else a JSON, urlencoded or
multipart body, read with the same rules as the API's, `herald.bodies`), and `CallbackRejected`, the clear JSON
refusal of a request that can't be used. Below `callbacks.py` and every channel type's `reports.py`."""

import io
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParserError

from herald import bodies


class CallbackRejected(Exception):
    """A callback request refused: answered `{"message": "Error", "data": [{"type": "error", "error": message}],
    "error": message}` with `status_code` (`callbacks.rejected`)."""

    def __init__(self, status_code: int, message: str):
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def request_value(request: HttpRequest, name: str) -> str | None:
    """A parameter from the query string, else from the body (JSON object, urlencoded or multipart form)."""
    if request.GET.get(name):
        return str(request.GET[name])
    value = request_body(request).get(name)
    return None if value is None or value == "" else str(value)


def request_body(request: HttpRequest) -> Mapping[str, Any]:
    """The body's parameters, read once per request with the API's strict rules: bad JSON, JSON nested too deep,
    undecodable text or too many fields are a 400 naming the problem (a body over HERALD_MAX_BODY_BYTES is the
    API's 413)."""
    body: Mapping[str, Any] | None = getattr(request, "_callback_body", None)
    if body is None:
        body = request._callback_body = _parse_body(request)  # type: ignore[attr-defined]  # kept on the request
    return body


def _parse_body(request: HttpRequest) -> Mapping[str, Any]:
    content_type = request.content_type or ""
    encoding = request.encoding or settings.DEFAULT_CHARSET
    try:
        if content_type == "application/json" or content_type.endswith("+json"):
            data = bodies.read_json(io.BytesIO(request.body), encoding) if request.body else {}
            if not isinstance(data, dict):
                raise CallbackRejected(400, "JSON body must be an object")
            return data
        if request.method != "POST":
            return {}
        if content_type == "application/x-www-form-urlencoded":
            bodies.check_form(request.body, encoding)
            return QueryDict(request.body, encoding=encoding)
        return request.POST
    except bodies.UnreadableBody as exc:
        raise CallbackRejected(400, str(exc)) from None
    except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent) as exc:
        raise CallbackRejected(400, f"unreadable form body: {exc}") from None
