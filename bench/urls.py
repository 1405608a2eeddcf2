"""Herald's URLs, plus `/bench/bare/broadcasts.json`: the baseline for the API benchmark."""

from django.urls import path

from herald.urls import urlpatterns as herald_urlpatterns

from .bare import BareBroadcastsView

urlpatterns = [*herald_urlpatterns, path("bench/bare/broadcasts.json", BareBroadcastsView.as_view())]
