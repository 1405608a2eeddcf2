"""The web interface's URLs: one include per area (each area's module holds its own `urlpatterns`), so a new area
is one line here."""

from django.urls import include, path
from django.views.generic import RedirectView

from herald.web.views import account, broadcasts, channels, compose, contacts, settings

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="web.broadcasts", permanent=False), name="web.home"),
    path("", include(account)),
    path("broadcasts/", include(broadcasts)),
    path("compose/", include(compose)),
    path("contacts/", include(contacts)),
    path("channels/", include(channels)),
    path("settings/", include(settings)),
]
