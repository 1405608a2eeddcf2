from django.conf import settings
from django.http import FileResponse, Http404

from .models import Media


def serve_media(request, media_uuid, filename):
    """Serve an uploaded file. Public by URL (channels hand it to providers), never run as script in a browser."""
    media = Media.objects.filter(uuid=media_uuid, filename=filename).first()
    if media is None:
        raise Http404("No such media")
    path = settings.MEDIA_ROOT / media.path
    if not path.is_file():
        raise Http404("No such media")
    response = FileResponse(path.open("rb"), content_type=media.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=86400, immutable"
    return response
