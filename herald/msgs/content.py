"""A broadcast's content in every language it was written in: the one module that knows how it is stored.

`Broadcast.translations` holds `{lang: {"text": str, "attachments": ["ct:url", ...], "quick_replies": [{...}]}}`,
each part optional per language, languages sorted. The API builds it (`Translations.from_parts`) and reads it back
per part (`text_by_language` ...); the fan-out picks each contact's content (`for_contact`) and scans the templates
(`template_sources`).

Which translation a contact gets: candidates, in order, are the contact's language (when the workspace sends in
it), the workspace's primary language, the broadcast's base language (`candidate_languages`). Text, attachments and
quick replies each come from the first candidate that has them, so a Spanish speaker can get Spanish text with the
base language's picture.
"""

from dataclasses import dataclass
from typing import Any

# A quick reply `{"type", "text", "extra"}`; one language's parts `{"text": ..., "attachments": ..., ...}`.
QuickReply = dict[str, Any]
Parts = dict[str, Any]

TEXT, ATTACHMENTS, QUICK_REPLIES = "text", "attachments", "quick_replies"


@dataclass(frozen=True)
class Content:
    """What one contact is sent, before its templates are rendered."""

    text: str
    text_language: str | None
    attachments: tuple[str, ...]
    quick_replies: tuple[QuickReply, ...]


@dataclass(frozen=True)
class Translations:
    by_language: dict[str, Parts]  # as stored in Broadcast.translations

    @classmethod
    def from_parts(
        cls,
        text: dict[str, str] | None = None,
        attachments: dict[str, list[str]] | None = None,
        quick_replies: dict[str, list[QuickReply]] | None = None,
    ) -> "Translations":
        """Merge validated parts, each `{lang: value}`: text a string, attachments `["ct:url", ...]`, quick replies
        a list of `{"type", "text", "extra"}` dicts.

        Languages are sorted: PostgreSQL's jsonb (and so RapidPro) keeps object keys in that order whatever order
        they came in, and sorting here gives the same order on every database.
        """
        by_language: dict[str, Parts] = {}
        parts: tuple[tuple[str, dict[str, Any] | None], ...] = (
            (TEXT, text),
            (ATTACHMENTS, attachments),
            (QUICK_REPLIES, quick_replies),
        )
        for part, values in parts:
            for lang, value in (values or {}).items():
                by_language.setdefault(lang, {})[part] = value
        return cls(dict(sorted(by_language.items())))

    # Read side: one object per part, keyed by every language of the translations.

    def text_by_language(self) -> dict[str, str | None]:
        return {lang: parts.get(TEXT) for lang, parts in self.by_language.items()}

    def attachments_by_language(self) -> dict[str, list[str]]:
        return {lang: parts.get(ATTACHMENTS, []) for lang, parts in self.by_language.items()}

    def quick_replies_by_language(self) -> dict[str, list[QuickReply]]:
        return {lang: parts.get(QUICK_REPLIES, []) for lang, parts in self.by_language.items()}

    def for_contact(self, candidates: tuple[str, ...]) -> Content:
        """Each part from the first of the `candidates` languages that has it (see `candidate_languages`)."""
        text, text_language = self._first(TEXT, candidates)
        attachments, _ = self._first(ATTACHMENTS, candidates)
        quick_replies, _ = self._first(QUICK_REPLIES, candidates)
        return Content(text or "", text_language, tuple(attachments or ()), tuple(quick_replies or ()))

    def template_sources(self) -> list[str]:
        """Every template of every language: the text, each attachment, each quick reply's text."""
        return [
            str(source)
            for parts in self.by_language.values()
            for source in (
                parts.get(TEXT, ""),
                *parts.get(ATTACHMENTS, []),
                *(reply.get("text") or "" for reply in parts.get(QUICK_REPLIES, [])),
            )
        ]

    def _first(self, part: str, candidates: tuple[str, ...]) -> tuple[Any, str | None]:
        for language in candidates:
            value = self.by_language.get(language, {}).get(part)
            if value:
                return value, language
        return None, None


def candidate_languages(
    contact_language: str | None, workspace_languages: list[str], base_language: str
) -> tuple[str, ...]:
    """The languages to take a contact's content from, best first, without repeats."""
    candidates = []
    if contact_language and contact_language in workspace_languages:
        candidates.append(contact_language)
    if workspace_languages:
        candidates.append(workspace_languages[0])
    candidates.append(base_language)
    return tuple(dict.fromkeys(candidates))
