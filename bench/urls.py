"""Herald's URLs, plus `/bench/bare/broadcasts.json` and `/bench/bare/web`: the API and web benchmarks' baselines."""

from django.urls import path

from herald.urls import urlpatterns as herald_urlpatterns

from .bare import BareBroadcastsView, bare_web_page

urlpatterns = [
    *herald_urlpatterns,
    path("bench/bare/broadcasts.json", BareBroadcastsView.as_view()),
    path("bench/bare/web", bare_web_page),
]
