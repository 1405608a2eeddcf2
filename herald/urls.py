from django.urls import include, path
from django.views.generic import RedirectView

from herald.api import monitoring
from herald.media.views import serve_media

urlpatterns = [
    path("api/", RedirectView.as_view(url="/api/v2/", permanent=False)),
    path("api/v2/", include("herald.api.v2.urls")),
    path("media/<uuid:media_uuid>/<str:filename>", serve_media, name="media.serve"),
    path("c/", include("herald.msgs.reports")),
    # For load balancers, orchestrators and Prometheus (herald/api/monitoring.py).
    path("health", monitoring.health, name="health"),
    path("ready", monitoring.ready, name="ready"),
    path("metrics", monitoring.metrics, name="metrics"),
    # The web interface (herald/web): every other path.
    path("", include("herald.web.urls")),
]
