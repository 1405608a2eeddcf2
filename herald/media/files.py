"""What an upload may be: allowed content types, a check of the bytes against them, and safe file names."""

import mimetypes
import os
import re
import unicodedata
from fnmatch import fnmatchcase

import filetype

# Matched against the declared type once it is a bare, lowercase `type/subtype` (see `declared_content_type`).
ALLOWED_CONTENT_TYPES = (
    "image/apng",
    "image/avif",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/webp",
    "audio/*",
    "video/*",
    "application/pdf",
)

# filetype recognises a file by its first bytes; it never needs more than these.
SNIFF_BYTES = 8192

# Audio and video share containers (MP4, Ogg, WebM, 3GP), so either family vouches for the other.
TIME_BASED = frozenset({"audio", "video"})
# An animated PNG is a PNG, and a still PNG is a one-frame APNG to every decoder.
SAME_FORMAT = {"image/apng": {"image/apng", "image/png"}, "image/png": {"image/png", "image/apng"}}

# The longest name most file systems take, in bytes; Media.filename holds 255 characters, never fewer bytes.
MAX_FILENAME_BYTES = 255
UNSAFE_NAME_CHARACTERS = re.compile(r"[^\w\-\[\]() ]")

# Only the interpreter's built-in table (not the host's /etc/mime.types), so names don't depend on the machine,
# completed with the allowed types it lacks.
_types = mimetypes.MimeTypes(filenames=())
for _type, _extension in [
    ("image/apng", ".apng"),
    ("image/webp", ".webp"),
    ("audio/mp4", ".m4a"),
    ("audio/x-m4a", ".m4a"),
    ("audio/ogg", ".ogg"),
    ("audio/ogg", ".oga"),
    ("audio/ogg", ".opus"),
    ("audio/opus", ".opus"),
    ("audio/amr", ".amr"),
    ("audio/wav", ".wav"),
    ("audio/flac", ".flac"),
    ("audio/webm", ".weba"),
    ("video/3gpp", ".3gp"),
]:
    _types.add_type(_type, _extension)


# RFC 6838 section 4.2 restricted names, lowercased: a letter or digit, then up to 126 of these characters. Nothing
# else may reach a stored type: attachments are `type:url`, so a `:` or `/` more would change the URL recipients get;
# a `,` would let a browser read a second type; an `@` would start an expression when a message is rendered.
_RESTRICTED_NAME = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
_MEDIA_TYPE = re.compile(rf"{_RESTRICTED_NAME}/{_RESTRICTED_NAME}")


def declared_content_type(declared: str | None) -> str | None:
    """The bare `type/subtype` a part's Content-Type names, lowercased (names are case-insensitive), or None when it
    is anything else. Parameters (`; codecs=opus`, `; charset=...`) have already been split off by the multipart
    parser and are dropped: they are legitimate, the bytes are checked anyway, and a stored type never carries them.
    """
    content_type = (declared or "").strip()
    if not content_type.isascii():  # lower() would turn some non-ASCII letters (the Kelvin sign) into ASCII ones
        return None
    content_type = content_type.lower()
    return content_type if _MEDIA_TYPE.fullmatch(content_type) else None


def is_allowed_type(content_type: str) -> bool:
    return any(fnmatchcase(content_type, pattern) for pattern in ALLOWED_CONTENT_TYPES)


def content_matches(content_type: str, head: bytes) -> bool:
    """True when the file's first bytes are of the declared kind (a PNG for image/png, any audio or video
    container for audio/* and video/*, a PDF for application/pdf). Unrecognisable bytes never match."""
    kind = filetype.guess(head)
    if kind is None:
        return False
    declared_family = content_type.split("/", 1)[0]
    if declared_family in TIME_BASED:
        return kind.mime.split("/", 1)[0] in TIME_BASED
    return kind.mime in SAME_FORMAT.get(content_type, {content_type})


def forced_content_type(filename: str, content_type: str) -> str:
    """`.m4a` files are MP4 audio whatever the client calls them (audio/x-m4a, audio/m4a ...)."""
    if os.path.splitext(filename)[1].lower() == ".m4a":
        return "audio/mp4"
    return content_type


def clean_filename(filename: str, content_type: str) -> str:
    """A name safe on any file system and in a URL: no directories, only word characters, `-`, `[]`, `()` and
    spaces in the base, an extension that agrees with the content type (else guessed from it, else `.bin`), at
    most 255 bytes, and `file` when nothing is left."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    base, extension = os.path.splitext(name)
    if extension.lower() not in _types.guess_all_extensions(content_type):
        extension = _types.guess_extension(content_type) or ".bin"
    base = UNSAFE_NAME_CHARACTERS.sub("", base)
    room = MAX_FILENAME_BYTES - len(extension.encode())
    base = base.encode()[:room].decode("utf-8", "ignore").strip()
    return (base or "file") + extension
