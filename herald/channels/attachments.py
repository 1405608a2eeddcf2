"""A message's attachments as provider types send them: content type, URL and, for media uploaded to Herald, size,
so that one over a provider's limit fails before the call with a clear reason instead of after it with the
provider's.

    for attachment in sized_attachments(msg, limits={"image": 5 * MB, "": 16 * MB}, provider="WhatsApp"):
        attachment.content_type, attachment.url, attachment.kind   # "image/jpeg", "https://…", "image"
"""

from collections.abc import Mapping
from dataclasses import dataclass

from herald.channels.base import OutgoingMsg, PermanentSendError
from herald.media.references import find_media

MB = 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    content_type: str
    url: str
    # Bytes, when the attachment is media uploaded to Herald; None for a URL of elsewhere.
    size: int | None = None

    @property
    def kind(self) -> str:
        """`image`, `audio`, `video`, `application` ...: the content type's first part."""
        return self.content_type.split("/", 1)[0]


def sized_attachments(
    msg: OutgoingMsg, limits: Mapping[str, int] | None = None, provider: str = ""
) -> list[Attachment]:
    """The message's attachments (stored as `content-type:url`), with sizes where Herald has the media. `limits`
    maps a kind (`image`, `video` ...; "" for any other) to the most bytes the provider takes: an attachment of
    known size over its limit raises `PermanentSendError` naming it, the size and the limit."""
    stored = list(msg.attachments or [])
    media = find_media(msg.workspace_id, stored) if stored else {}
    found = []
    for ref in stored:
        content_type, _, url = ref.partition(":")
        if "/" not in content_type:  # a bare type such as `image`: kept as it is
            content_type = content_type or "application/octet-stream"
        known = media.get(ref)
        attachment = Attachment(content_type, url, known.size if known is not None else None)
        if limits and attachment.size is not None:
            limit = limits.get(attachment.kind, limits.get(""))
            if limit is not None and attachment.size > limit:
                raise PermanentSendError(
                    f"attachment {url} is {attachment.size / MB:.1f} MB: {provider or 'the provider'} takes "
                    f"{attachment.kind} attachments of at most {limit / MB:g} MB"
                )
        found.append(attachment)
    return found
