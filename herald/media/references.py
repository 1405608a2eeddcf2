"""Which media object a reference names: its UUID, or a `<content-type>:<url>` attachment string as a GET of a
broadcast shows it.

In the `type:url` form only the media UUID inside the URL counts: the type and host given are ignored, and the
attachment stored comes from the Media record.
"""

import re
import uuid
from contextlib import suppress

from .models import Media

# `<content-type>:<url>`: the type part RapidPro accepts before the first colon.
_ATTACHMENT = re.compile(r"^(image|audio|video|application|geo|unavailable|(\w+/[-+.\w]+)):(.+)$", re.DOTALL)
# Only a canonical lowercase UUID inside a URL names a media object (as the URLs we hand out contain).
_UUID_IN_URL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def media_uuid(ref) -> uuid.UUID | None:
    """The media UUID a reference names: the UUID itself, or the first canonical UUID in a `type:url` string."""
    if not isinstance(ref, str):
        return None
    with suppress(ValueError):
        return uuid.UUID(ref)
    match = _ATTACHMENT.match(ref)
    if match and (found := _UUID_IN_URL.search(match.group(3))):
        return uuid.UUID(found.group(0))
    return None


def find_media(workspace, refs) -> dict:
    """Map each reference to the workspace's media object it names (absent when none)."""
    named = {ref: found for ref in refs if (found := media_uuid(ref))}
    by_uuid = {m.uuid: m for m in Media.objects.filter(workspace=workspace, uuid__in=set(named.values()))}
    return {ref: by_uuid[found] for ref, found in named.items() if found in by_uuid}
