"""Human documentation pages (the endpoint docstrings, rendered) and the JSON index of endpoints."""

import inspect

import markdown
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.views import View

from .registry import ENDPOINTS

ROOT_DOC = """
Herald speaks the RapidPro / TextIt REST API v2: existing clients such as `rapidpro-python` work unchanged.

## Authentication

Every call carries your API token: `Authorization: Token YOUR_API_TOKEN` (HTTP Basic with your e-mail as the user
name and the token as the password works too). A missing or wrong token is answered with **403**.

## Formats

Send JSON bodies (`Content-Type: application/json`); the media endpoint takes `multipart/form-data`. Dates are
ISO-8601 in UTC, e.g. `2024-01-31T18:00:00.000000Z`. Phone numbers are URNs in full E.164 form, e.g.
`tel:+250788123123`. Translatable values are objects keyed by ISO-639-3 language code, e.g.
`{"eng": "Hello", "fra": "Bonjour"}`; a bare string goes to the workspace's primary language.

## Paging

Lists are newest first, 250 items a page: follow the absolute `next` URL until it is `null`.

## Rate limits

Each workspace may make 3,600 requests an hour per scope unless configured otherwise. Over the limit you get
**429** with a `Retry-After` header giving the whole seconds to wait.

## Retrying safely

Any `POST` (broadcasts, contacts, groups, fields, media) may carry an `Idempotency-Key` header: a unique string of
your choice, up to 255 printable ASCII characters (a UUID is a good one). If the connection drops before you see
the answer, send the same request again with the same key: within 24 hours you get the first response again, with
the header `Idempotent-Replayed: true`, and nothing is created or sent twice.

    curl -X POST https://herald.example.com/api/v2/broadcasts.json \\
        -H "Authorization: Token YOUR_API_TOKEN" -H "Content-Type: application/json" \\
        -H "Idempotency-Key: 5f3c1b9e-2d7a-4c8e-9b1f-0a6d2e4c8b13" \\
        -d '{"urns": ["tel:+250788123123"], "text": "Hello"}'

 * The same request means the same method, URL (with its query) and body (JSON key order and spacing don't
   matter; an upload must be the same file with the same name and type). The same key with a different request
   is a **422**: `{"detail": "This Idempotency-Key was already used with a different request."}`.
 * Only successful responses are remembered: after a 400 you can fix the body and retry with the same key.
 * If the first request is still being processed when the retry arrives, the retry waits for it and then gets its
   response: two requests with one key never create two objects.
 * Keys belong to your workspace (another workspace may use the same string) and are forgotten after 24 hours.
 * A key that is empty, longer than 255 characters or not printable ASCII is a **400**:
   `{"detail": "Idempotency-Key must be 1 to 255 printable ASCII characters."}`.

## Status codes

| Code | Meaning |
|------|---------|
| 200 | A list, or an update of an existing object |
| 201 | An object was created |
| 204 | An object was deleted |
| 400 | The request is invalid: the body says what is wrong; don't retry it unchanged |
| 403 | No valid token, your role may not do this, or plain HTTP where the server requires HTTPS |
| 404 | No such object, or an invalid paging cursor |
| 405 | This endpoint doesn't support that method |
| 413 | The body or upload is too large, or the workspace's media quota has no room for it |
| 409 | Rare: a request with the same `Idempotency-Key` is still being processed; retry it |
| 415 | Wrong content type |
| 422 | This `Idempotency-Key` was already used with a different request |
| 429 | Too many requests: wait `Retry-After` seconds |
| 500 | A fault in Herald (it is logged): `{"detail": "Internal server error: ..."}` |
| 503 | Herald's task queue or Redis is unreachable: retry after `Retry-After` seconds |
| 507 | Herald's disk is full: nothing was stored; retry once its operator has freed space |

Every answer, errors included, is JSON. A request answered with an error stored nothing, and a 201 means the
object is stored: a broadcast is then sent even if its task could not be queued at once (the periodic tick starts
it). So retrying a request after any error is safe, with or without an `Idempotency-Key`.

The machine-readable description of every endpoint is at [openapi.json](openapi.json).
"""


def render_markdown(text: str) -> str:
    return markdown.markdown(inspect.cleandoc(text), extensions=["tables", "fenced_code"])


def endpoint_list():
    return [{"name": e.endpoint_name, "title": e.title} for e in ENDPOINTS]


class EndpointDocsView(View):
    endpoint = None

    def render(self, request):
        return render_to_string(
            "api/docs.html",
            {
                "title": f"/api/v2/{self.endpoint.endpoint_name}.json",
                "subtitle": self.endpoint.title,
                "body": render_markdown(self.endpoint.__doc__ or ""),
                "endpoints": endpoint_list(),
            },
            request=request,
        )

    def get(self, request):

        return HttpResponse(self.render(request))

    def post(self, request):
        # A write sent to the docs URL instead of the `.json` one: refuse it and show where to go.
        return HttpResponseForbidden(self.render(request))


class RootDocsView(View):
    def get(self, request):

        html = render_to_string(
            "api/docs.html",
            {"title": "Herald API v2", "subtitle": "", "body": render_markdown(ROOT_DOC), "endpoints": endpoint_list()},
            request=request,
        )
        return HttpResponse(html)


class IndexView(View):
    def get(self, request):
        return JsonResponse(
            {e["name"]: request.build_absolute_uri(reverse(f"api.v2.{e['name']}.docs")) for e in endpoint_list()}
        )
