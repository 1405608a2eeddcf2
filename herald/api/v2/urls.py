from django.urls import path, re_path
from drf_spectacular.views import SpectacularJSONAPIView

from . import docs
from .registry import ALIASES, ENDPOINTS


def endpoint_urls(name, endpoint):
    # The API answers only on `<name>.json` (trailing slash optional); `<name>` alone is its documentation page.
    view = endpoint.as_view()
    return [
        path(f"{name}.json", view, name=f"api.v2.{name}"),
        path(f"{name}.json/", view),
        path(name, docs.EndpointDocsView.as_view(endpoint=endpoint), name=f"api.v2.{name}.docs"),
    ]


urlpatterns = [
    path("", docs.RootDocsView.as_view(), name="api.v2"),
    re_path(r"^\.json/?$", docs.IndexView.as_view(), name="api.v2.index"),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="api.v2.openapi"),
]
for _endpoint in ENDPOINTS:
    urlpatterns += endpoint_urls(_endpoint.endpoint_name, _endpoint)
for _alias, _endpoint in ALIASES.items():
    urlpatterns += endpoint_urls(_alias, _endpoint)
