from django.urls import include, path
from django.views.generic import RedirectView

from herald.media.views import serve_media

urlpatterns = [
    path("api/", RedirectView.as_view(url="/api/v2/", permanent=False)),
    path("api/v2/", include("herald.api.v2.urls")),
    path("media/<uuid:media_uuid>/<str:filename>", serve_media, name="media.serve"),
    path("c/", include("herald.msgs.reports")),
]
