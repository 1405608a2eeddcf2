"""Translated content fields: `text`, `attachments` and `quick_replies`, each a value per ISO-639-3 language.

Shared by the write endpoints that send content (broadcasts, messages). Every field accepts either an object keyed by
language (`{"eng": "Hello", "fra": "Bonjour"}`) or a bare value, which is filed under the workspace's primary
language. Errors nest under the language, e.g. `{"text": {"eng": ["This field may not be blank."]}}`, even when a
bare value was sent, as RapidPro does.
"""

import re
from collections.abc import Mapping

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from herald.media.models import Media
from herald.msgs.models import Broadcast

from .fields import ReferenceListField, _as_uuid, validate_translation_language

MAX_LANGUAGES = 50
QUICK_REPLY_TEXT_LEN = 64
QUICK_REPLY_EXTRA_LEN = 1000

# `<content-type>:<url>`: the type part RapidPro accepts before the first colon.
_ATTACHMENT = re.compile(r"^(image|audio|video|application|geo|unavailable|(\w+/[-+.\w]+)):(.+)$", re.DOTALL)
# Only a canonical lowercase UUID inside a URL names a media object (as the URLs we hand out contain).
_UUID_IN_URL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def language_key_errors(value: dict) -> dict:
    errors = {}
    for lang in value:
        try:
            validate_translation_language(lang)
        except serializers.ValidationError as e:
            errors[lang] = e.detail
    return errors


class TranslatedField(serializers.DictField):
    """Up to 50 languages → a value validated by `child`.

    Every language is reported: the value's errors if it has any (RapidPro checks values first), else the key's.
    """

    # Types of a bare value that is filed under the workspace's primary language instead of being refused.
    bare_types: tuple = ()

    default_error_messages = {"max_languages": f"Ensure this field has no more than {MAX_LANGUAGES} elements."}

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_empty", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, self.bare_types):
            data = {self.context["workspace"].primary_language: data}
        if isinstance(data, dict) and len(data) > MAX_LANGUAGES:
            self.fail("max_languages")
        key_errors = language_key_errors(data) if isinstance(data, dict) else {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as e:
            if not isinstance(e.detail, dict):
                raise
            value_errors = e.detail
        else:
            value_errors = {}
        errors = {
            lang: value_errors.get(lang) or key_errors[lang]
            for lang in data
            if lang in value_errors or lang in key_errors
        }
        if errors:
            raise serializers.ValidationError(errors)
        return value


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": Broadcast.MAX_TEXT_LEN},
            {"type": "object", "additionalProperties": {"type": "string", "maxLength": Broadcast.MAX_TEXT_LEN}},
        ],
        "description": "A string (primary language) or an object of ISO-639-3 code → text.",
        "example": {"eng": "Hello @contact.name!", "fra": "Bonjour @contact.name!"},
    }
)
class TranslatedTextField(TranslatedField):
    """`{"eng": "Hello"}`: non-blank strings of up to 4096 characters, surrounding whitespace trimmed."""

    bare_types = (str, list)

    def __init__(self, **kwargs):
        kwargs["child"] = serializers.CharField(max_length=Broadcast.MAX_TEXT_LEN)
        super().__init__(**kwargs)


@extend_schema_field({"type": "array", "items": {"type": "string"}, "maxItems": Broadcast.MAX_ATTACHMENTS})
class MediaListField(ReferenceListField):
    """Up to 10 media objects of this workspace, each named by its UUID or by a `<content-type>:<url>` string.

    In the `type:url` form only the media UUID inside the URL counts: the type and host given are ignored and the
    stored attachment always comes from the Media record. Unknown references give `["No such object: <value>"]`.
    """

    default_error_messages = {"too_many": f"Ensure this field has no more than {Broadcast.MAX_ATTACHMENTS} elements."}

    def to_internal_value(self, data):
        if isinstance(data, list) and len(data) > Broadcast.MAX_ATTACHMENTS:
            self.fail("too_many")
        return super().to_internal_value(data)

    def to_representation(self, value):
        return [str(media.uuid) for media in value]

    def resolve(self, workspace, refs):
        named = {ref: uuid for ref in refs if (uuid := media_uuid(ref))}
        media = Media.objects.filter(workspace=workspace, uuid__in=set(named.values()))
        by_uuid = {m.uuid: m for m in media}
        return {ref: by_uuid[uuid] for ref, uuid in named.items() if uuid in by_uuid}


def media_uuid(ref):
    """The media UUID a reference names: the UUID itself, or the first canonical UUID in a `type:url` string."""
    if not isinstance(ref, str):
        return None
    if uuid := _as_uuid(ref):
        return uuid
    match = _ATTACHMENT.match(ref)
    if match and (found := _UUID_IN_URL.search(match.group(3))):
        return _as_uuid(found.group(0))
    return None


@extend_schema_field(
    {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}, "maxItems": Broadcast.MAX_ATTACHMENTS},
            {
                "type": "object",
                "additionalProperties": {
                    "type": "array",
                    "items": {"type": "string"},
                    "maxItems": Broadcast.MAX_ATTACHMENTS,
                },
            },
        ],
        "description": "Media UUIDs (or `type:url` strings from a GET), as a list (primary language) or an object "
        "of ISO-639-3 code → list.",
        "example": {"eng": ["fdd156ca-233a-48c1-896d-a9d594d59b95"]},
    }
)
class TranslatedAttachmentsField(TranslatedField):
    """`{"eng": [<media>, ...]}`: up to 10 media objects per language; an empty list is allowed."""

    bare_types = (list, str)

    def __init__(self, **kwargs):
        kwargs["child"] = MediaListField()
        super().__init__(**kwargs)


class QuickReplySerializer(serializers.Serializer):
    """One quick reply: `{"type": "text", "text": "Yes"}`; normalised to `type` plus the keys that were sent."""

    TYPES = ("text", "form", "url", "location")

    type = serializers.ChoiceField(choices=TYPES, default="text", required=False)
    text = serializers.CharField(max_length=QUICK_REPLY_TEXT_LEN, allow_null=True, required=False)
    extra = serializers.CharField(max_length=QUICK_REPLY_EXTRA_LEN, allow_null=True, required=False)

    def run_validation(self, data=serializers.empty):
        # RapidPro answers a 500 here; a non-object item (a bare "Yes", a number, null) is a plain 400
        # (docs/COMPATIBILITY.md, C1).
        if not isinstance(data, Mapping):
            raise serializers.ValidationError('Must be an object, e.g. {"text": "Yes"}.')
        return super().run_validation(data)

    def to_internal_value(self, data):
        # The type rules run on the raw item before the field checks, so their errors are not keyed by field.
        kind = data.get("type", "text")
        if kind == "text" and not data.get("text"):
            raise serializers.ValidationError("Quick replies of type 'text' require a 'text' value.")
        if kind in ("form", "url") and not (data.get("text") and data.get("extra")):
            raise serializers.ValidationError(f"Quick replies of type '{kind}' require 'text' and 'extra' values.")
        if kind == "location" and data.get("extra"):
            raise serializers.ValidationError("Quick replies of type 'location' cannot have an 'extra' value.")
        valid = super().to_internal_value(data)
        return {key: valid[key] for key in ("type", "text", "extra") if key in valid}


QUICK_REPLY_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": list(QuickReplySerializer.TYPES), "default": "text"},
        "text": {"type": "string", "maxLength": QUICK_REPLY_TEXT_LEN, "nullable": True},
        "extra": {"type": "string", "maxLength": QUICK_REPLY_EXTRA_LEN, "nullable": True},
    },
}
QUICK_REPLIES_SCHEMA = {"type": "array", "items": QUICK_REPLY_SCHEMA, "maxItems": Broadcast.MAX_QUICK_REPLIES}


@extend_schema_field(
    {
        "oneOf": [QUICK_REPLIES_SCHEMA, {"type": "object", "additionalProperties": QUICK_REPLIES_SCHEMA}],
        "description": "Quick replies, as a list (primary language) or an object of ISO-639-3 code → list.",
        "example": {"eng": [{"text": "Burger", "extra": "With cheese"}, {"text": "Pizza"}]},
    }
)
class TranslatedQuickRepliesField(TranslatedField):
    """`{"eng": [{"text": "Yes"}, ...]}`: up to 10 quick replies per language."""

    bare_types = (list,)

    def __init__(self, **kwargs):
        kwargs["child"] = serializers.ListField(child=QuickReplySerializer(), max_length=Broadcast.MAX_QUICK_REPLIES)
        super().__init__(**kwargs)


def build_translations(text=None, attachments=None, quick_replies=None) -> dict:
    """Merge validated content into `{lang: {"text": .., "attachments": ["ct:url", ..], "quick_replies": [..]}}`.

    Languages are sorted: PostgreSQL's jsonb (and so RapidPro) keeps object keys in that order whatever order they
    came in, and sorting here gives the same order on every database.
    """
    translations: dict[str, dict] = {}
    for lang, value in (text or {}).items():
        translations.setdefault(lang, {})["text"] = value
    for lang, media in (attachments or {}).items():
        translations.setdefault(lang, {})["attachments"] = [m.attachment for m in media]
    for lang, replies in (quick_replies or {}).items():
        translations.setdefault(lang, {})["quick_replies"] = replies
    return dict(sorted(translations.items()))


# Read side: the same three parts, as one object per part keyed by every language of the translations.

TRANSLATED_TEXT_OUT = {"type": "object", "additionalProperties": {"type": "string", "nullable": True}}
TRANSLATED_ATTACHMENTS_OUT = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string", "description": "content-type:url"}},
}
TRANSLATED_QUICK_REPLIES_OUT = {"type": "object", "additionalProperties": QUICK_REPLIES_SCHEMA}


def text_by_language(translations: dict) -> dict:
    return {lang: part.get("text") for lang, part in translations.items()}


def attachments_by_language(translations: dict) -> dict:
    return {lang: part.get("attachments", []) for lang, part in translations.items()}


def quick_replies_by_language(translations: dict) -> dict:
    return {lang: part.get("quick_replies", []) for lang, part in translations.items()}
