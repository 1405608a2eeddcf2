"""Human documentation pages (the endpoint docstrings, rendered) and the JSON index of endpoints."""

import inspect

import markdown
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.views import View

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

## Status codes

| Code | Meaning |
|------|---------|
| 200 | A list, or an update of an existing object |
| 201 | An object was created |
| 204 | An object was deleted |
| 400 | The request is invalid: the body says what is wrong; don't retry it unchanged |
| 403 | No valid token, or your role may not do this |
| 404 | No such object, or an invalid paging cursor |
| 405 | This endpoint doesn't support that method |
| 413 | The body or upload is too large |
| 415 | Wrong content type |
| 429 | Too many requests: wait `Retry-After` seconds |

The machine-readable description of every endpoint is at [openapi.json](openapi.json).
"""


def render_markdown(text: str) -> str:
    return markdown.markdown(inspect.cleandoc(text), extensions=["tables", "fenced_code"])


def endpoint_list():
    from .urls import ENDPOINTS

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
