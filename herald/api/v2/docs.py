"""Human documentation pages (`docs/<endpoint>.md` and `docs/index.md`, rendered) and the JSON index of endpoints."""

import markdown
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.views import View

from .base import documentation_page
from .registry import ENDPOINTS


def render_markdown(text: str) -> str:
    return markdown.markdown(text, extensions=["tables", "fenced_code"])


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
                "body": render_markdown(self.endpoint.documentation()),
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
            {
                "title": "Herald API v2",
                "subtitle": "",
                "body": render_markdown(documentation_page("index")),
                "endpoints": endpoint_list(),
            },
            request=request,
        )
        return HttpResponse(html)


class IndexView(View):
    def get(self, request):
        return JsonResponse(
            {e["name"]: request.build_absolute_uri(reverse(f"api.v2.{e['name']}.docs")) for e in endpoint_list()}
        )
